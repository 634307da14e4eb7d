// Encoding of objects and causal contexts, for the wire and for the disk.
//
// Decoders validate everything they accept (sorted, unique, non-zero vector
// entries; bounded sizes; every sibling covered by the context) and return
// INVALID_ARGUMENT (client input) or DATA_LOSS (stored bytes) otherwise, so
// the DVV operations never see a malformed state.
#ifndef QUORUMKV_REPLICATION_OBJECT_CODEC_H_
#define QUORUMKV_REPLICATION_OBJECT_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/replica.pb.h"
#include "replication/object.h"

namespace quorumkv {

// Limits on what decoders accept.
inline constexpr size_t kMaxActorBytes = 64;
inline constexpr size_t kMaxContextEntries = 4096;
inline constexpr size_t kMaxDecodedSiblings = 4096;
inline constexpr size_t kMaxIdempotencyKeyBytes = 64;

namespace pb = ::quorumkv::v1;

void ToProto(const Dot& dot, pb::Dot* out);
void ToProto(const VersionVector& vv, pb::VersionVectorProto* out);
void ToProto(const Sibling& sibling, pb::Sibling* out);
void ToProto(const Object& object, pb::ObjectProto* out);

absl::StatusOr<Dot> FromProto(const pb::Dot& proto);
absl::StatusOr<VersionVector> FromProto(const pb::VersionVectorProto& proto);
absl::StatusOr<Object> FromProto(const pb::ObjectProto& proto);

// The opaque context handed to clients: a serialized ContextProto, bound to
// `key`. The empty vector encodes to empty bytes.
std::string EncodeContext(const VersionVector& vv, absl::string_view key);
// Empty bytes decode to the empty context (a blind write). INVALID_ARGUMENT
// "context is malformed: ..." for bytes that are not a context, and "context
// belongs to another key" for the context of another key.
absl::StatusOr<VersionVector> DecodeContext(absl::string_view bytes, absl::string_view key);

// OK iff DecodeObject would accept the encoding of `object`: stores check
// this before writing, so that a stored object can always be read back.
absl::Status CheckDecodable(const Object& object);

// Stored form of an object. DecodeObject returns DATA_LOSS on corrupt bytes.
std::string EncodeObject(const Object& object);
absl::StatusOr<Object> DecodeObject(absl::string_view bytes);

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_OBJECT_CODEC_H_
