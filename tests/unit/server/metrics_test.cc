// The text format kvnode's /metrics writes (server/metrics.h): cumulative
// histogram buckets, escaped labels, and counts by operation and outcome.
#include "server/metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quorumkv {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfAndSum) {
  Histogram h({0.1, 1}, 1e9);
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(7);
  std::string out;
  h.Write(&out, "x_seconds", "op=\"get\"");
  EXPECT_THAT(out, HasSubstr("x_seconds_bucket{op=\"get\",le=\"0.1\"} 1\n"));
  EXPECT_THAT(out, HasSubstr("x_seconds_bucket{op=\"get\",le=\"1\"} 2\n"));
  EXPECT_THAT(out, HasSubstr("x_seconds_bucket{op=\"get\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(out, HasSubstr("x_seconds_sum{op=\"get\"} 7.55\n"));
  EXPECT_THAT(out, HasSubstr("x_seconds_count{op=\"get\"} 3\n"));
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  EXPECT_EQ(Label("peer", "a\"b\\c\nd"), "peer=\"a\\\"b\\\\c\\nd\"");
}

TEST(MetricsTest, RequestsAreCountedByOperationAndCode) {
  NodeMetrics metrics;
  metrics.RequestDone(ClientOp::kPut, grpc::StatusCode::OK, absl::Milliseconds(3));
  metrics.RequestDone(ClientOp::kPut, grpc::StatusCode::UNAVAILABLE, absl::Milliseconds(30));
  v1::QuorumInfo quorum;
  quorum.set_strict_overlap(true);
  quorum.add_fallbacks("n4");
  quorum.add_repaired("n2");
  metrics.ReadAnswered(quorum, 2);
  metrics.Shed(ShedBound::kClientRequests);
  std::string out;
  metrics.Write(&out);
  EXPECT_THAT(out, HasSubstr("quorumkv_client_requests_total{op=\"put\",code=\"ok\"} 1\n"));
  EXPECT_THAT(out,
              HasSubstr("quorumkv_client_requests_total{op=\"put\",code=\"unavailable\"} 1\n"));
  // A code never seen is not listed (ok always is).
  EXPECT_THAT(out, Not(HasSubstr("op=\"put\",code=\"internal\"")));
  EXPECT_THAT(out, HasSubstr("quorumkv_client_requests_total{op=\"get\",code=\"ok\"} 0\n"));
  EXPECT_THAT(out, HasSubstr("quorumkv_quorum_strict_overlap_total{kind=\"read\"} 1\n"));
  EXPECT_THAT(out, HasSubstr("quorumkv_quorum_with_fallbacks_total{kind=\"read\"} 1\n"));
  EXPECT_THAT(out, HasSubstr("quorumkv_read_repairs_total 1\n"));
  EXPECT_THAT(out, HasSubstr("quorumkv_read_siblings_bucket{le=\"2\"} 1\n"));
  EXPECT_THAT(out, HasSubstr("quorumkv_shed_requests_total{bound=\"client_requests\"} 1\n"));
  // One HELP and TYPE per family, before its samples.
  EXPECT_THAT(out, HasSubstr("# TYPE quorumkv_client_request_duration_seconds histogram\n"
                             "quorumkv_client_request_duration_seconds_bucket{op=\"get\""));
}

}  // namespace
}  // namespace quorumkv
