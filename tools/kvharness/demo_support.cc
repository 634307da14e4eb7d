#include "tools/kvharness/demo_support.h"

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tools/common/output.h"

namespace quorumkv {

void Narrator::Title(const std::string& text) { std::printf("\n== %s ==\n", text.c_str()); }

void Narrator::Step(const std::string& text) {
  std::printf("\n%d. %s\n", ++step_, text.c_str());
  std::fflush(stdout);
}

void Narrator::Saw(const std::string& text) { std::printf("   -> %s\n", text.c_str()); }

void Narrator::Why(const std::string& text) { std::printf("   why: %s\n", text.c_str()); }

bool Narrator::Expect(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("   MISBEHAVED: %s\n", what.c_str());
    ++failures_;
  }
  return ok;
}

int Narrator::Verdict() {
  std::printf("\n%s\n",
              failures_ == 0
                  ? "verdict: the store behaved as expected"
                  : absl::StrCat("verdict: ", failures_, " expectation(s) failed").c_str());
  std::fflush(stdout);
  return failures_ == 0 ? 0 : 1;
}

std::unique_ptr<KvClient> ClientFor(const LocalCluster& cluster, const std::string& endpoints) {
  // A demo names the node it sends to (the first endpoint): no routing by key.
  return *KvClient::Connect(KvClientOptions{
      .endpoints = SplitEndpoints(endpoints), .route_by_key = false, .tls = cluster.ClientTls()});
}

std::string Values(const v1::GetResponse& r) {
  std::vector<std::string> values;
  for (const std::string& v : LiveValues(r)) values.push_back(absl::StrCat("\"", v, "\""));
  return absl::StrCat("[", absl::StrJoin(values, ", "), "]");
}

std::string Replied(const v1::QuorumInfo& q) {
  std::vector<std::string> ids;
  for (const v1::ReplicaAnswer& a : q.replied()) {
    ids.push_back(a.hinted_for().empty() ? a.node()
                                         : absl::StrCat(a.node(), " (for ", a.hinted_for(), ")"));
  }
  return absl::StrJoin(ids, ", ");
}

std::optional<v1::NodeStatus> WaitForStatus(
    KvClient& client, const std::string& node, absl::Duration timeout,
    const std::function<bool(const v1::NodeStatus&)>& done) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    absl::StatusOr<v1::StatusResponse> status = client.Status();
    if (status.ok()) {
      for (const v1::NodeStatus& s : status->nodes()) {
        if (s.id() == node && done(s)) return s;
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return std::nullopt;
}

absl::StatusOr<v1::RepairResponse> RunRepairRound(KvClient& client, uint32_t partition,
                                                  absl::Duration timeout) {
  v1::RepairRequest ask;
  ask.set_start(true);
  ask.set_partition(partition);
  absl::StatusOr<v1::RepairResponse> asked = client.Repair(ask);
  if (!asked.ok()) return asked.status();
  v1::RepairRequest report;
  report.set_report_finished(asked->round());
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    absl::StatusOr<v1::RepairResponse> r = client.Repair(report);
    if (r.ok() && r->rounds_finished() >= asked->round()) return r;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("anti-entropy round ", asked->round(), " did not end within ", Ms(timeout)));
}

std::string Ms(absl::Duration d) { return absl::StrCat(absl::ToInt64Milliseconds(d), " ms"); }

std::vector<std::string> StandIns(const v1::QuorumInfo& q) {
  std::vector<std::string> nodes;
  for (const v1::ReplicaAnswer& a : q.replied()) {
    if (!a.hinted_for().empty()) nodes.push_back(a.node());
  }
  return nodes;
}

absl::StatusOr<Cast> ChooseCast(KvClient& client, const std::string& prefix) {
  absl::StatusOr<v1::RingResponse> info = client.Ring();
  if (!info.ok()) return info.status();
  absl::StatusOr<Ring> ring = RingOf(*info);
  if (!ring.ok()) return ring.status();
  Cast cast;
  cast.key = absl::StrCat(prefix, absl::ToUnixMicros(absl::Now()));
  cast.pref = ring->ForKey(cast.key);
  cast.partition = ring->PartitionOf(cast.key);
  cast.victim = cast.pref.home.front();
  cast.coordinator = cast.pref.home.back();
  cast.n = info->replication_factor();
  return cast;
}

absl::StatusOr<Cast> CastWithFallbacks(LocalCluster& cluster, const std::string& demo,
                                       const std::string& prefix) {
  absl::StatusOr<std::string> endpoints = cluster.Endpoints();
  absl::StatusOr<v1::ClusterConfig> config = cluster.Config();
  if (!endpoints.ok() || !config.ok() ||
      config->nodes_size() <= static_cast<int>(config->replication_factor())) {
    return absl::FailedPreconditionError(
        absl::StrCat("demo ", demo,
                     " needs more nodes than N, so that a fallback can stand in: kvharness up "
                     "--nodes 5"));
  }
  absl::StatusOr<Cast> cast = ChooseCast(*ClientFor(cluster, *endpoints), prefix);
  if (!cast.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot read the ring: ", cast.status().message()));
  }
  return cast;
}

int NoCast(const absl::Status& why) {
  std::fprintf(stderr, "kvharness: %s\n", std::string(why.message()).c_str());
  return why.code() == absl::StatusCode::kFailedPrecondition ? 2 : 1;
}

}  // namespace quorumkv
