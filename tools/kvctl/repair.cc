// kvctl repair: an anti-entropy round now, on every node or one, with
// progress while it runs and a summary at the end.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tools/common/output.h"
#include "tools/kvctl/commands.h"

namespace quorumkv::kvctl {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(200);

struct NodeRound {
  std::string id;
  std::unique_ptr<KvClient> client;
  uint64_t round = 0;  // the one asked for
  v1::RepairResponse last;
  std::string error;       // the node could not be asked for a round
  std::string poll_error;  // the last poll failed (tried again)
  bool done = false;
};

std::string Bytes(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  if (bytes < (1 << 20)) return absl::StrFormat("%.1f KiB", bytes / 1024.0);
  return absl::StrFormat("%.1f MiB", bytes / 1048576.0);
}

// The round asked for has begun (rounds_started reached it): its counters
// are those shown; before that they are the previous round's.
bool Begun(const NodeRound& n) { return n.last.rounds_started() >= n.round; }

std::string ProgressLine(const std::vector<NodeRound>& nodes, absl::Duration elapsed) {
  uint64_t total = 0, done = 0, failed = 0, differing = 0, repaired = 0, bytes = 0;
  int finished = 0;
  for (const NodeRound& n : nodes) {
    if (n.done) ++finished;
    if (!Begun(n)) continue;
    total += n.last.exchanges_total();
    done += n.last.exchanges_done();
    failed += n.last.exchanges_failed();
    differing += n.last.keys_differing();
    repaired += n.last.keys_repaired();
    bytes += n.last.bytes_received() + n.last.bytes_sent();
  }
  return absl::StrFormat(
      "repair: %d/%d nodes done, partitions compared %d/%d (%d failed), keys differing %d, "
      "repaired %d, %s, %.1f s",
      finished, nodes.size(), done, total, failed, differing, repaired, Bytes(bytes),
      absl::ToDoubleSeconds(elapsed));
}

nlohmann::json NodeJson(const NodeRound& n) {
  nlohmann::json j = {{"node", n.id}};
  if (!n.error.empty()) {
    j["error"] = n.error;
    return j;
  }
  const v1::RepairResponse& r = n.last;
  j["complete"] = r.complete();
  j["partitions_compared"] = r.exchanges_done();
  j["partitions_total"] = r.exchanges_total();
  j["partitions_failed"] = r.exchanges_failed();
  j["hashes_compared"] = r.hashes_compared();
  j["keys_differing"] = r.keys_differing();
  j["keys_repaired"] = r.keys_repaired();
  j["tombstones_purged"] = r.tombstones_purged();
  j["bytes_received"] = r.bytes_received();
  j["bytes_sent"] = r.bytes_sent();
  if (!r.last_error().empty()) j["last_error"] = r.last_error();
  return j;
}

void PrintSummary(const std::vector<NodeRound>& nodes, absl::Duration elapsed) {
  for (const NodeRound& n : nodes) {
    if (!n.error.empty()) {
      std::cout << n.id << ": not repaired: " << n.error << "\n";
      continue;
    }
    const v1::RepairResponse& r = n.last;
    std::cout << absl::StrFormat(
        "%s: %s; partition-replica pairs compared %d/%d (%d failed), hashes compared %d, "
        "keys differing %d, repaired %d, tombstones purged %d, received %s, sent %s\n",
        n.id, r.complete() ? "complete" : "INCOMPLETE", r.exchanges_done(), r.exchanges_total(),
        r.exchanges_failed(), r.hashes_compared(), r.keys_differing(), r.keys_repaired(),
        r.tombstones_purged(), Bytes(r.bytes_received()), Bytes(r.bytes_sent()));
    if (!r.complete() && !r.last_error().empty()) {
      std::cout << "  last failure: " << r.last_error() << "\n";
    }
  }
  std::cout << absl::StrFormat("repair took %.1f s\n", absl::ToDoubleSeconds(elapsed));
}

// The nodes to repair, each connected on its own: every node, or `only`.
absl::StatusOr<std::vector<NodeRound>> NodesToRepair(const Global& global,
                                                     const std::string& only) {
  absl::StatusOr<std::unique_ptr<KvClient>> any =
      KvClient::Connect({.endpoints = global.endpoints,
                         .timeout = absl::Milliseconds(global.timeout_ms),
                         .tls = global.tls});
  if (!any.ok()) return any.status();
  absl::StatusOr<v1::RingResponse> ring = (*any)->Ring();
  if (!ring.ok()) return ring.status();
  std::vector<NodeRound> nodes;
  std::vector<std::string> ids;
  for (const v1::NodeAddress& a : ring->nodes()) {
    ids.push_back(a.id());
    if (!only.empty() && a.id() != only) continue;
    absl::StatusOr<std::unique_ptr<KvClient>> client =
        KvClient::Connect({.endpoints = {a.address()},
                           .timeout = absl::Milliseconds(global.timeout_ms),
                           .tls = global.tls});
    if (!client.ok()) return client.status();
    nodes.push_back(NodeRound{.id = a.id(), .client = *std::move(client)});
  }
  if (nodes.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--node ", only, " is not in the cluster (", absl::StrJoin(ids, ", "), ")"));
  }
  return nodes;
}

// A poll that fails is tried again at the next one, until --max-wait-s.
void Poll(NodeRound& n) {
  if (n.done) return;
  v1::RepairRequest report;
  report.set_report_finished(n.round);
  absl::StatusOr<v1::RepairResponse> r = n.client->Repair(report);
  if (!r.ok()) {
    n.poll_error = r.status().ToString();
    return;
  }
  n.poll_error.clear();
  n.last = *std::move(r);
  n.done = n.last.rounds_finished() >= n.round;
}

}  // namespace

int Repair(const Global& global, const RepairArgs& args) {
  absl::StatusOr<std::vector<NodeRound>> nodes = NodesToRepair(global, args.node);
  if (!nodes.ok()) {
    std::cerr << "kvctl: " << nodes.status().ToString() << "\n";
    return ExitCodeFor(nodes.status());
  }
  const absl::Time start = absl::Now();
  v1::RepairRequest ask;
  ask.set_start(true);
  if (args.partition) ask.set_partition(*args.partition);
  for (NodeRound& n : *nodes) {
    absl::StatusOr<v1::RepairResponse> r = n.client->Repair(ask);
    if (!r.ok()) {
      if (r.status().code() == absl::StatusCode::kInvalidArgument) {
        std::cerr << "kvctl: " << r.status().message() << "\n";
        return kExitUsage;
      }
      n.error = r.status().ToString();
      n.done = true;
      continue;
    }
    n.round = r->round();
    n.last = *std::move(r);
  }
  const bool tty = isatty(STDERR_FILENO) != 0;
  const absl::Time give_up = start + absl::Seconds(args.max_wait_s);
  absl::Time last_line = start;
  bool all_done = false;
  while (!all_done && absl::Now() < give_up) {
    all_done = true;
    for (NodeRound& n : *nodes) {
      Poll(n);
      all_done &= n.done;
    }
    const absl::Time now = absl::Now();
    if (tty) {
      std::cerr << "\r" << ProgressLine(*nodes, now - start) << std::flush;
    } else if (now - last_line >= absl::Seconds(1) || all_done) {
      std::cerr << ProgressLine(*nodes, now - start) << "\n";
      last_line = now;
    }
    if (!all_done) absl::SleepFor(kPollInterval);  // polling a remote round's progress
  }
  if (tty) std::cerr << "\n";
  const absl::Duration elapsed = absl::Now() - start;
  bool complete = all_done;
  for (const NodeRound& n : *nodes) complete &= n.error.empty() && n.last.complete();
  if (global.json) {
    nlohmann::json out = {{"complete", complete},
                          {"elapsed_ms", absl::ToInt64Milliseconds(elapsed)},
                          {"nodes", nlohmann::json::array()}};
    for (const NodeRound& n : *nodes) out["nodes"].push_back(NodeJson(n));
    std::cout << out.dump() << std::endl;
  } else {
    PrintSummary(*nodes, elapsed);
  }
  if (!all_done) {
    std::cerr << "kvctl: the round did not end within --max-wait-s " << args.max_wait_s
              << " s; it goes on in the nodes\n";
    for (const NodeRound& n : *nodes) {
      if (!n.poll_error.empty())
        std::cerr << "  " << n.id << ": last poll: " << n.poll_error << "\n";
    }
    return kExitDeadline;
  }
  if (!complete) {
    std::cerr << "kvctl: the round is incomplete: some replica pairs were not compared (a node "
                 "down or unreachable); run kvctl repair again once it is back\n";
    return kExitUnavailable;
  }
  return kExitOk;
}

}  // namespace quorumkv::kvctl
