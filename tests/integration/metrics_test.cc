// A real Prometheus server (Debian's `prometheus`) scrapes a 3-node
// cluster's /metrics, the addresses kvharness writes to D/metrics, and the
// test asks it over its HTTP API what it saw.
#include <httplib.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"
#include "tools/kvharness/local_cluster.h"
#include "tools/kvharness/process.h"

namespace quorumkv::testing {
namespace {

namespace fs = std::filesystem;
constexpr char kPrometheus[] = "/usr/bin/prometheus";

class MetricsTest : public ClusterTest {
 protected:
  void SetUp() override {
    if (!fs::exists(kPrometheus)) GTEST_SKIP() << "no " << kPrometheus << " (scripts/setup.sh)";
    StartCluster(3, 3);
  }

  // Starts Prometheus scraping every node of D/metrics each 500 ms; its
  // pid, or -1.
  pid_t StartPrometheus() {
    std::ifstream in(fs::path(dir_) / "metrics");
    std::vector<std::string> targets;
    std::string id, address;
    while (in >> id >> address) targets.push_back(absl::StrCat("'", address, "'"));
    EXPECT_EQ(targets.size(), 3u);
    const fs::path config = fs::path(dir_) / "prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 500ms\n  scrape_timeout: 400ms\n"
                          << "scrape_configs:\n  - job_name: quorumkv\n    static_configs:\n"
                          << "      - targets: [" << absl::StrJoin(targets, ", ") << "]\n";
    absl::StatusOr<std::vector<int>> port = PickFreePorts(1);
    EXPECT_TRUE(port.ok()) << port.status();
    if (!port.ok()) return -1;
    prometheus_port_ = (*port)[0];
    absl::StatusOr<pid_t> pid = SpawnDetached(
        {kPrometheus, absl::StrCat("--config.file=", config.string()),
         absl::StrCat("--storage.tsdb.path=", (fs::path(dir_) / "prometheus").string()),
         absl::StrCat("--web.listen-address=127.0.0.1:", prometheus_port_), "--log.level=warn"},
        (fs::path(dir_) / "prometheus.log").string(), "");
    EXPECT_TRUE(pid.ok()) << pid.status();
    return pid.ok() ? *pid : -1;
  }

  // The value of the single result of instant query `query`, or nullopt.
  std::optional<double> Query(const std::string& query) {
    httplib::Client client("127.0.0.1", prometheus_port_);
    client.set_connection_timeout(1);
    client.set_read_timeout(2);
    httplib::Result result =
        client.Get("/api/v1/query", httplib::Params{{"query", query}}, httplib::Headers{});
    if (!result || result->status != 200) return std::nullopt;
    nlohmann::json body = nlohmann::json::parse(result->body, nullptr, false);
    if (body.is_discarded() || body["status"] != "success") return std::nullopt;
    const nlohmann::json& results = body["data"]["result"];
    if (results.size() != 1) return std::nullopt;
    return std::stod(results[0]["value"][1].get<std::string>());
  }

  // Waits (up to 30 s) until `query` has a single value at least `least`.
  ::testing::AssertionResult Reaches(const std::string& query, double least) {
    std::optional<double> last;
    if (WaitFor(absl::Seconds(30), [&] {
          last = Query(query);
          return last.has_value() && *last >= least;
        })) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << query << " is " << (last ? std::to_string(*last) : "absent") << ", not >= " << least
           << "; prometheus.log:\n"
           << TailOfFile((fs::path(dir_) / "prometheus.log").string(), 20);
  }

  int prometheus_port_ = 0;
};

TEST_F(MetricsTest, ARealPrometheusScrapesEveryNode) {
  const pid_t prometheus = StartPrometheus();
  ASSERT_GT(prometheus, 0);
  absl::Cleanup stop = [prometheus] {
    kill(prometheus, SIGTERM);
    if (!WaitGone(prometheus, absl::Now() + absl::Seconds(10))) kill(prometheus, SIGKILL);
  };
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(KvctlVia("n1", {"put", absl::StrCat("m", i), "v", "--w", "3"}).exit_code, 0);
    ASSERT_EQ(KvctlVia("n1", {"get", absl::StrCat("m", i)}).exit_code, 0);
  }
  ASSERT_EQ(KvctlVia("n1", {"put", "too-big", "v", "--w", "9"}).exit_code, 2);

  EXPECT_TRUE(Reaches("count(up{job=\"quorumkv\"} == 1)", 3));
  EXPECT_TRUE(Reaches("sum(quorumkv_client_requests_total{op=\"put\",code=\"ok\"})", 5));
  EXPECT_TRUE(Reaches("sum(quorumkv_client_requests_total{op=\"get\",code=\"ok\"})", 5));
  EXPECT_TRUE(
      Reaches("sum(quorumkv_client_requests_total{op=\"put\",code=\"invalid_argument\"})", 1));
  EXPECT_TRUE(Reaches("sum(quorumkv_quorum_strict_overlap_total{kind=\"write\"})", 5));
  EXPECT_TRUE(Reaches("sum(quorumkv_client_request_duration_seconds_count{op=\"put\"})", 6));
  // Every node sees both its peers up.
  EXPECT_TRUE(Reaches("sum(quorumkv_peer_state{state=\"up\"})", 6));
  EXPECT_TRUE(Reaches("count(quorumkv_node_info)", 3));
  EXPECT_TRUE(Reaches("sum(quorumkv_storage_synced_write_duration_seconds_count)", 5));

  // n3 killed: both other nodes' detectors say so, and Prometheus sees
  // its target down.
  ASSERT_EQ(Harness({"kill", "n3"}).exit_code, 0);
  EXPECT_TRUE(Reaches("sum(quorumkv_peer_state{peer=\"n3\",state=\"down\"})", 2));
  EXPECT_TRUE(Reaches("count(up{job=\"quorumkv\"} == 0)", 1));
}

}  // namespace
}  // namespace quorumkv::testing
