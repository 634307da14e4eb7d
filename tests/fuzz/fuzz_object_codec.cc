// libFuzzer target: the storage codec of an object (what a replica reads
// back from disk, and what a peer's replica write carries as ObjectProto).
// Whatever decodes must encode back to bytes that decode to the same
// object; nothing may crash, leak or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "proto/replica.pb.h"
#include "replication/object_codec.h"

namespace quorumkv {
namespace {

void RoundTripsOrFails(absl::string_view bytes) {
  absl::StatusOr<Object> object = DecodeObject(bytes);
  if (!object.ok()) return;
  absl::StatusOr<Object> again = DecodeObject(EncodeObject(*object));
  if (!again.ok() || !(*again == *object)) std::abort();
}

void ProtoRoundTripsOrFails(absl::string_view bytes) {
  v1::ObjectProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  absl::StatusOr<Object> object = FromProto(proto);
  if (!object.ok()) return;
  v1::ObjectProto back;
  ToProto(*object, &back);
  absl::StatusOr<Object> again = FromProto(back);
  if (!again.ok() || !(*again == *object)) std::abort();
}

}  // namespace
}  // namespace quorumkv

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  quorumkv::RoundTripsOrFails(bytes);
  quorumkv::ProtoRoundTripsOrFails(bytes);
  return 0;
}
