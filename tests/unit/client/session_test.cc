#include "client/session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "proto/session.pb.h"
#include "replication/object_codec.h"

namespace quorumkv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

VersionVector Vv(std::vector<VersionVector::Entry> entries) {
  return VersionVector::FromSortedEntries(std::move(entries));
}

v1::PutResponse Acked(const std::string& key, const Dot& dot, const VersionVector& context) {
  v1::PutResponse put;
  put.set_key(key);
  put.mutable_dot()->set_actor(dot.actor);
  put.mutable_dot()->set_counter(dot.counter);
  put.set_context(EncodeContext(context, key));
  return put;
}

v1::GetResponse Read(const std::string& key, const VersionVector& context) {
  v1::GetResponse get;
  get.set_key(key);
  get.set_context(EncodeContext(context, key));
  return get;
}

TEST(SessionTest, AReadLackingTheSessionsWriteFallsShortNamingIt) {
  Session session;
  ASSERT_TRUE(session.RecordWrite("k", Acked("k", {"n1.aa", 5}, Vv({{"n1.aa", 5}}))).ok());
  absl::StatusOr<SessionShortfall> old = session.Check("k", Read("k", Vv({{"n1.aa", 4}})));
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->ok());
  EXPECT_THAT(old->unwritten, ElementsAre(Dot{"n1.aa", 5}));
  EXPECT_TRUE(old->unseen.empty()) << "the session's own write is named once";
  EXPECT_THAT(old->Describe(), HasSubstr("lacks the session's own write n1.aa:5"));
  // A later write by anyone that covers the session's dot satisfies it.
  EXPECT_TRUE(session.Check("k", Read("k", Vv({{"n1.aa", 5}, {"n2.bb", 9}})))->ok());
}

TEST(SessionTest, AReplyOlderThanOneAlreadySeenFallsShort) {
  Session session;
  ASSERT_TRUE(session.RecordRead("k", Read("k", Vv({{"n2.bb", 3}}))).ok());
  absl::StatusOr<SessionShortfall> older = session.Check("k", Read("k", Vv({{"n2.bb", 2}})));
  ASSERT_TRUE(older.ok());
  EXPECT_TRUE(older->unwritten.empty());
  EXPECT_THAT(older->unseen, ElementsAre(Dot{"n2.bb", 3}));
  EXPECT_THAT(older->Describe(), HasSubstr("older than a read the session already saw"));
  EXPECT_TRUE(session.Check("k", Read("k", Vv({{"n2.bb", 3}})))->ok());
  EXPECT_TRUE(session.Check("other", Read("other", {}))->ok()) << "keys are separate";
}

TEST(SessionTest, AWriteContextWithoutItsDotStillRequiresTheDot) {
  // ContextAfterWrite may leave the new dot out of the returned context.
  Session session;
  ASSERT_TRUE(session.RecordWrite("k", Acked("k", {"n1.aa", 7}, Vv({{"n2.bb", 1}}))).ok());
  EXPECT_FALSE(session.Check("k", Read("k", Vv({{"n2.bb", 1}})))->ok());
  EXPECT_THAT(session.Writers("k"), ElementsAre("n1"));
}

TEST(SessionTest, TheTokenCarriesTheWholeState) {
  Session session;
  ASSERT_TRUE(session.RecordWrite("k", Acked("k", {"n1.aa", 5}, Vv({{"n1.aa", 5}}))).ok());
  ASSERT_TRUE(session.RecordRead("j", Read("j", Vv({{"n3.cc", 2}}))).ok());
  absl::StatusOr<Session> back = Session::FromToken(session.Token());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->key_count(), 2u);
  EXPECT_FALSE(back->Check("k", Read("k", {}))->ok());
  EXPECT_FALSE(back->Check("j", Read("j", {}))->ok());
  EXPECT_EQ(Session::FromToken(back->Token())->Token(), back->Token()) << "stable once loaded";
}

TEST(SessionTest, ATokensUseCountersAreRenumberedSoNoneCanOverflow) {
  v1::SessionProto proto;
  proto.set_use_counter(UINT64_MAX);
  for (const char* key : {"a", "b"}) {
    v1::SessionKeyProto* k = proto.add_keys();
    k->set_key(key);
    k->set_last_use(UINT64_MAX);
  }
  absl::StatusOr<Session> session =
      Session::FromToken(absl::WebSafeBase64Escape(proto.SerializeAsString()), 2);
  ASSERT_TRUE(session.ok()) << session.status();
  for (const char* key : {"c", "d", "a", "e"}) {
    ASSERT_TRUE(session->RecordRead(key, Read(key, Vv({{"n1.aa", 1}}))).ok());
  }
  EXPECT_EQ(session->key_count(), 2u);
  EXPECT_EQ(session->evicted(), 4u) << "a, b, c, d in turn";
  EXPECT_FALSE(session->Check("a", Read("a", {}))->ok());
  EXPECT_FALSE(session->Check("e", Read("e", {}))->ok());
}

TEST(SessionTest, AMalformedTokenIsRefused) {
  EXPECT_THAT(Session::FromToken("not base64!").status().message(),
              HasSubstr("session token is malformed"));
  EXPECT_EQ(Session::FromToken("AAAA").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Session::FromToken("").ok()) << "an empty token is a new session";
}

TEST(SessionTest, AContextOfAnotherKeyIsRefused) {
  Session session;
  v1::GetResponse other = Read("j", Vv({{"n1.aa", 1}}));
  EXPECT_EQ(session.RecordRead("k", other).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(session.key_count(), 0u) << "nothing recorded";
}

TEST(SessionTest, OverItsKeyLimitTheLeastRecentlyUsedKeyIsDroppedAndCounted) {
  Session session(/*max_keys=*/2);
  ASSERT_TRUE(session.RecordRead("a", Read("a", Vv({{"n1.aa", 1}}))).ok());
  ASSERT_TRUE(session.RecordRead("b", Read("b", Vv({{"n1.aa", 2}}))).ok());
  ASSERT_TRUE(session.RecordRead("a", Read("a", Vv({{"n1.aa", 3}}))).ok());  // a used last
  ASSERT_TRUE(session.RecordRead("c", Read("c", Vv({{"n1.aa", 4}}))).ok());
  EXPECT_EQ(session.key_count(), 2u);
  EXPECT_EQ(session.evicted(), 1u);
  EXPECT_TRUE(session.Check("b", Read("b", {}))->ok()) << "b was dropped";
  EXPECT_FALSE(session.Check("a", Read("a", {}))->ok());
  EXPECT_EQ(Session::FromToken(session.Token(), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace quorumkv
