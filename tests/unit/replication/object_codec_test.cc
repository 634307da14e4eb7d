// Encoding of objects (disk and wire) and of the client's opaque context.
#include "replication/object_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "replication/ring.h"
#include "tests/unit/replication/object_printers.h"
#include "tests/unit/test_support.h"

namespace quorumkv {
namespace {

using ::testing::StartsWith;

using test_support::Vv;

Object ThreeSiblings() {
  Object object;
  object.context = Vv({{"a.1", 7}, {"b.1", 3}, {"c.1", 9}});
  object.siblings = {
      Sibling{.dot = {"a.1", 7}, .hlc = 100, .value = "alpha"},
      Sibling{.dot = {"b.1", 2}, .hlc = 90, .tombstone = true},
      Sibling{.dot = {"c.1", 9}, .hlc = 120, .value = std::string("\0bin\xff", 5)},
  };
  return object;
}

using test_support::kKey;

std::string ContextBytes(const std::vector<std::pair<std::string, uint64_t>>& entries,
                         absl::string_view key = kKey) {
  pb::ContextProto proto;
  for (const auto& [actor, counter] : entries) {
    pb::VersionVectorEntry* e = proto.mutable_seen()->add_entries();
    e->set_actor(actor);
    e->set_counter(counter);
  }
  proto.set_key_hash(StableHash(key));
  return proto.SerializeAsString();
}

void ExpectMalformedContext(const std::string& bytes) {
  const absl::StatusOr<VersionVector> vv = DecodeContext(bytes, kKey);
  EXPECT_EQ(vv.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(vv.status().message()), StartsWith("context is malformed"));
}

void ExpectDataLoss(const pb::ObjectProto& proto) {
  const absl::StatusOr<Object> object = DecodeObject(proto.SerializeAsString());
  EXPECT_EQ(object.status().code(), absl::StatusCode::kDataLoss) << proto.DebugString();
}

TEST(ObjectCodecTest, ObjectRoundTrips) {
  const Object object = ThreeSiblings();
  const absl::StatusOr<Object> decoded = DecodeObject(EncodeObject(object));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, object);
}

TEST(ObjectCodecTest, IdempotencyKeysRoundTripAndAreBounded) {
  Object object = ThreeSiblings();
  object.siblings[0].idempotency_key = "order-17";
  const absl::StatusOr<Object> decoded = DecodeObject(EncodeObject(object));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->siblings[0].idempotency_key, "order-17");
  pb::ObjectProto proto;
  ToProto(object, &proto);
  proto.mutable_siblings(0)->set_idempotency_key(std::string(kMaxIdempotencyKeyBytes + 1, 'i'));
  ExpectDataLoss(proto);
}

TEST(ObjectCodecTest, EmptyObjectRoundTrips) {
  const absl::StatusOr<Object> decoded = DecodeObject(EncodeObject(Object()));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, Object());
}

TEST(ObjectCodecTest, ObjectRoundTripsThroughProto) {
  pb::ObjectProto proto;
  ToProto(ThreeSiblings(), &proto);
  const absl::StatusOr<Object> decoded = FromProto(proto);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, ThreeSiblings());
}

TEST(ObjectCodecTest, ContextRoundTrips) {
  const VersionVector vv = Vv({{"a.1", 1}, {"b.2", 18'446'744'073'709'551'615ull}});
  const absl::StatusOr<VersionVector> decoded = DecodeContext(EncodeContext(vv, kKey), kKey);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, vv);
}

TEST(ObjectCodecTest, EmptyContextBytesDecodeToTheEmptyVector) {
  const absl::StatusOr<VersionVector> decoded = DecodeContext("", kKey);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->empty());
}

TEST(ObjectCodecTest, EmptyVectorEncodesToEmptyBytes) { EXPECT_EQ(EncodeContext({}, kKey), ""); }

TEST(DecodeContextTest, RejectsTheContextOfAnotherKey) {
  const absl::StatusOr<VersionVector> vv =
      DecodeContext(EncodeContext(Vv({{"a.1", 1}}), "other-key"), kKey);
  EXPECT_EQ(vv.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(vv.status().message()), StartsWith("context belongs to another key"));
}

TEST(DecodeContextTest, RejectsBytesThatDoNotParse) {
  ExpectMalformedContext("\xff\xff\xff\xff");
  ExpectMalformedContext(
      "\x0a\x05"
      "ab");  // a truncated entry
}

TEST(DecodeContextTest, RejectsUnsortedEntries) {
  ExpectMalformedContext(ContextBytes({{"b.1", 1}, {"a.1", 1}}));
}

TEST(DecodeContextTest, RejectsARepeatedActor) {
  ExpectMalformedContext(ContextBytes({{"a.1", 1}, {"a.1", 2}}));
}

TEST(DecodeContextTest, RejectsAZeroCounter) { ExpectMalformedContext(ContextBytes({{"a.1", 0}})); }

TEST(DecodeContextTest, RejectsAnEmptyActor) { ExpectMalformedContext(ContextBytes({{"", 1}})); }

TEST(DecodeContextTest, RejectsAnOverlongActor) {
  ExpectMalformedContext(ContextBytes({{std::string(kMaxActorBytes + 1, 'a'), 1}}));
  EXPECT_TRUE(DecodeContext(ContextBytes({{std::string(kMaxActorBytes, 'a'), 1}}), kKey).ok());
}

std::vector<std::pair<std::string, uint64_t>> SortedEntries(size_t count) {
  std::vector<std::pair<std::string, uint64_t>> entries;
  for (size_t i = 0; i < count; ++i) entries.emplace_back(absl::StrCat("actor", 10000 + i), 1);
  return entries;
}

TEST(DecodeContextTest, RejectsTooManyEntries) {
  ExpectMalformedContext(ContextBytes(SortedEntries(kMaxContextEntries + 1)));
}

TEST(DecodeContextTest, AcceptsTheMaximumNumberOfEntries) {
  const absl::StatusOr<VersionVector> vv =
      DecodeContext(ContextBytes(SortedEntries(kMaxContextEntries)), kKey);
  ASSERT_TRUE(vv.ok()) << vv.status();
  EXPECT_EQ(vv->size(), kMaxContextEntries);
}

TEST(DecodeObjectTest, RejectsBytesThatDoNotParseAsDataLoss) {
  const absl::StatusOr<Object> object = DecodeObject("\xff\xff\xff\xff");
  EXPECT_EQ(object.status().code(), absl::StatusCode::kDataLoss);
}

TEST(DecodeObjectTest, RejectsASiblingNotCoveredByTheContext) {
  pb::ObjectProto proto;
  ToProto(ThreeSiblings(), &proto);
  proto.mutable_siblings(0)->mutable_dot()->set_counter(8);  // context has a.1:7
  ExpectDataLoss(proto);
}

TEST(DecodeObjectTest, RejectsUnsortedOrRepeatedSiblings) {
  pb::ObjectProto proto;
  ToProto(ThreeSiblings(), &proto);
  proto.mutable_siblings()->SwapElements(0, 1);
  ExpectDataLoss(proto);
  ToProto(ThreeSiblings(), &proto);
  *proto.mutable_siblings(1) = proto.siblings(0);
  ExpectDataLoss(proto);
}

TEST(DecodeObjectTest, RejectsATombstoneWithAValue) {
  pb::ObjectProto proto;
  ToProto(ThreeSiblings(), &proto);
  proto.mutable_siblings(1)->set_value("ghost");
  ExpectDataLoss(proto);
}

TEST(DecodeObjectTest, RejectsAMalformedContextOrDot) {
  pb::ObjectProto proto;
  ToProto(ThreeSiblings(), &proto);
  proto.mutable_context()->mutable_entries(0)->set_counter(0);
  ExpectDataLoss(proto);
  ToProto(ThreeSiblings(), &proto);
  proto.mutable_siblings(0)->mutable_dot()->set_actor("");
  ExpectDataLoss(proto);
}

TEST(DecodeObjectTest, CorruptionMessageSaysStoredObjectIsCorrupt) {
  pb::ObjectProto proto;
  ToProto(ThreeSiblings(), &proto);
  proto.mutable_siblings(2)->mutable_dot()->set_counter(10);
  EXPECT_THAT(std::string(DecodeObject(proto.SerializeAsString()).status().message()),
              StartsWith("stored object is corrupt: sibling c.1:10 is not covered"));
}

}  // namespace
}  // namespace quorumkv
