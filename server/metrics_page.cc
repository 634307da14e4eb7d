#include "server/metrics_page.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace quorumkv {
namespace {

void Gauge(std::string* out, absl::string_view name, absl::string_view help, double value) {
  WriteHeader(out, name, "gauge", help);
  WriteSample(out, name, "", value);
}

void Counter(std::string* out, absl::string_view name, absl::string_view help, double value) {
  WriteHeader(out, name, "counter", help);
  WriteSample(out, name, "", value);
}

void WriteHints(std::string* out, const pb::PingResponse& self, absl::Time now) {
  struct Family {
    absl::string_view name, type, help;
  };
  const Family families[] = {
      {"quorumkv_hints_pending", "gauge",
       "Hints this node holds for a home replica (writes it stood in for), by home."},
      {"quorumkv_hint_bytes", "gauge", "Bytes of the hints this node holds, by home."},
      {"quorumkv_hint_oldest_age_seconds", "gauge",
       "Age of the oldest hint this node holds for a home (0: none)."},
      {"quorumkv_hints_expired_total", "counter",
       "Hints for a home dropped for age, over every life of the node: writes the home may "
       "miss until anti-entropy repairs it."},
  };
  for (int f = 0; f < 4; ++f) {
    WriteHeader(out, families[f].name, families[f].type, families[f].help);
    for (const pb::HintSummaryProto& h : self.hints()) {
      const std::string label = Label("home", h.home());
      const double oldest =
          h.count() == 0
              ? 0
              : absl::ToDoubleSeconds(now - absl::FromUnixMillis(h.oldest_created_unix_ms()));
      const double values[] = {static_cast<double>(h.count()), static_cast<double>(h.bytes()),
                               std::max(0.0, oldest), static_cast<double>(h.expired())};
      WriteSample(out, families[f].name, label, values[f]);
    }
  }
}

void WriteNode(std::string* out, const MetricsSources& s) {
  ReplicaNode& node = *s.node;
  const pb::PingResponse self = node.HandlePing(pb::PingRequest());
  WriteHeader(out, "quorumkv_node_info", "gauge",
              "1, labelled with the node's actor: a new actor (a wiped disk) or generation (a "
              "restart that could not prove it kept every write) changes the label.");
  WriteSample(out, "quorumkv_node_info",
              absl::StrCat(Label("node", s.node_id), ",", Label("actor", self.actor())), 1);
  WriteHints(out, self, absl::Now());
  const HandoffStats handoff = node.handoff_stats();
  Counter(out, "quorumkv_hints_delivered_total",
          "Hints handed back to their home replica and deleted, since the node started.",
          handoff.delivered);
  Counter(out, "quorumkv_hint_bytes_delivered_total",
          "Bytes of the hints handed back, since the node started.", handoff.delivered_bytes);
  Counter(out, "quorumkv_hint_push_failures_total",
          "Hand-back attempts that failed (the home did not take them), since start.",
          handoff.failed_pushes);
  WriteHeader(out, "quorumkv_peer_state", "gauge",
              "This node's failure detector: 1 for each peer's current state (up, suspect, "
              "slow, down), 0 for the others.");
  for (const auto& [peer, state] : node.PeerStates()) {
    for (PeerState candidate :
         {PeerState::kUp, PeerState::kSuspect, PeerState::kSlow, PeerState::kDown}) {
      WriteSample(out, "quorumkv_peer_state",
                  absl::StrCat(Label("peer", peer), ",", Label("state", PeerStateName(candidate))),
                  state == candidate ? 1 : 0);
    }
  }
  Gauge(out, "quorumkv_partitions_marked_for_repair",
        "Ring partitions marked for anti-entropy (a dropped hint, a lost disk).",
        self.partitions_marked_for_repair());
  Gauge(out, "quorumkv_lost_writes",
        "1 if the node restarted having lost writes it had acknowledged (every partition "
        "marked for repair), else 0.",
        self.lost_writes() ? 1 : 0);
  Counter(out, "quorumkv_invariant_failures_total",
          "Invariant checks that failed in this process (each is a bug, logged where it "
          "happened).",
          self.invariant_failures());
  const AntiEntropyStats ae = node.anti_entropy().stats();
  Counter(out, "quorumkv_anti_entropy_rounds_finished_total",
          "Anti-entropy rounds this node ran to the end, since start.", ae.rounds_finished);
  Gauge(out, "quorumkv_anti_entropy_round_keys_repaired",
        "Keys the running (or else the last) anti-entropy round merged between replicas.",
        ae.keys_repaired);
  Gauge(out, "quorumkv_anti_entropy_round_exchanges_failed",
        "Partition exchanges of the running (or else the last) round that failed.",
        ae.exchanges_failed);
  Gauge(out, "quorumkv_anti_entropy_last_complete_round_age_seconds",
        "Since the last anti-entropy round over every partition that compared every pair "
        "(-1: none yet).",
        self.last_repair_round_age_ms() < 0 ? -1 : self.last_repair_round_age_ms() / 1000.0);
}

void WriteStorage(std::string* out, const std::map<std::string, uint64_t>& storage) {
  struct Property {
    absl::string_view rocksdb, name, help;
  };
  const Property properties[] = {
      {"rocksdb.total-sst-files-size", "quorumkv_rocksdb_sst_bytes",
       "Bytes of RocksDB's table files, every column family."},
      {"rocksdb.estimate-pending-compaction-bytes", "quorumkv_rocksdb_pending_compaction_bytes",
       "RocksDB's estimate of the bytes compaction has still to rewrite."},
      {"rocksdb.num-running-compactions", "quorumkv_rocksdb_running_compactions",
       "Compactions running now."},
      {"rocksdb.cur-size-all-mem-tables", "quorumkv_rocksdb_memtable_bytes",
       "Bytes of RocksDB's memtables."},
      {"rocksdb.actual-delayed-write-rate", "quorumkv_rocksdb_delayed_write_rate_bytes_per_second",
       "The rate RocksDB slows writes to in a stall; 0 while writes are not delayed."},
      {"rocksdb.is-write-stopped", "quorumkv_rocksdb_write_stopped",
       "1 while RocksDB stops writes (a write stall), else 0."},
  };
  for (const Property& p : properties) {
    auto it = storage.find(std::string(p.rocksdb));
    if (it != storage.end()) Gauge(out, p.name, p.help, it->second);
  }
}

}  // namespace

std::string RenderMetricsPage(const MetricsSources& s) {
  std::string out;
  Gauge(&out, "quorumkv_client_requests_in_flight",
        "Client requests admitted and not yet answered (the bound: 4096).",
        s.client_requests_in_flight);
  Gauge(&out, "quorumkv_client_request_bytes_in_flight",
        "Bytes of those requests (the bound: max_request_bytes_in_flight, 256 MiB by default).",
        s.client_request_bytes_in_flight);
  Gauge(&out, "quorumkv_replica_batches_in_flight",
        "Replica write batches of other nodes in this node's write groups (the bound: 1024).",
        s.replica_batches_in_flight);
  if (s.metrics != nullptr) s.metrics->Write(&out);
  if (s.node != nullptr) WriteNode(&out, s);
  WriteStorage(&out, s.storage);
  return out;
}

}  // namespace quorumkv
