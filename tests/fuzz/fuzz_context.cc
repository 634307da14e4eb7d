// libFuzzer target: decoding a causal context a client hands back (kvctl
// --context, a put's or delete's context field). The first input byte
// sets how many of the next bytes are the key the context is bound to;
// the rest is the context. A context that decodes encodes back to one that
// decodes to the same version vector.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "replication/object_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t key_size = std::min<size_t>(data[0], size - 1);
  const absl::string_view key(reinterpret_cast<const char*>(data) + 1, key_size);
  const absl::string_view context(reinterpret_cast<const char*>(data) + 1 + key_size,
                                  size - 1 - key_size);
  absl::StatusOr<quorumkv::VersionVector> decoded = quorumkv::DecodeContext(context, key);
  if (!decoded.ok()) return 0;
  absl::StatusOr<quorumkv::VersionVector> again =
      quorumkv::DecodeContext(quorumkv::EncodeContext(*decoded, key), key);
  if (!again.ok() || !(*again == *decoded)) std::abort();
  return 0;
}
