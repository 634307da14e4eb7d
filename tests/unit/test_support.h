// What the unit tests of replication/ and storage/ share: a start time for
// manual clocks, a key, version vectors and one-value objects, a refused
// call. Opening a replica store is in storage/store_support.h.
#ifndef QUORUMKV_TESTS_UNIT_TEST_SUPPORT_H_
#define QUORUMKV_TESTS_UNIT_TEST_SUPPORT_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "replication/object.h"
#include "replication/transport.h"
#include "replication/version_vector.h"

namespace quorumkv::test_support {

// Where the tests' manual clocks start.
inline const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
inline constexpr char kKey[] = "k";

// A version vector of sorted (actor, counter) entries.
inline VersionVector Vv(std::vector<VersionVector::Entry> entries) {
  return VersionVector::FromSortedEntries(std::move(entries));
}

// What a transport answers for a peer nothing listens at.
inline const absl::Status kRefused = NotSentError("unreachable (connection refused)");

// An object holding one value, written as dot (actor, counter).
inline Object OneValue(const std::string& actor, uint64_t counter, const std::string& value) {
  Object object;
  object.context.Add(Dot{actor, counter});
  object.siblings.push_back(Sibling{.dot = {actor, counter}, .hlc = counter, .value = value});
  return object;
}

}  // namespace quorumkv::test_support

#endif  // QUORUMKV_TESTS_UNIT_TEST_SUPPORT_H_
