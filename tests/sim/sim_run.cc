#include "tests/sim/sim_run.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "replication/cluster_config.h"
#include "replication/logging.h"
#include "replication/object_codec.h"

namespace quorumkv::sim {
namespace {

constexpr absl::Duration kClientTimeout = absl::Seconds(1);
constexpr absl::Duration kMaxRunTime = absl::Seconds(120);
constexpr absl::Duration kSettleTime = absl::Seconds(5);

// The world of the run on this thread, so that the replication core's log
// lines land in its trace even when seeds run on several threads.
thread_local SimWorld* current_world = nullptr;

Scenario DrawScenario(SimWorld& world) {
  Scenario s;
  s.nodes = static_cast<int>(world.Uniform(3, 5));
  s.replication = world.Chance(0.8) ? 3 : static_cast<int>(world.Uniform(1, s.nodes));
  s.keys = static_cast<int>(world.Uniform(1, 6));
  s.clients = static_cast<int>(world.Uniform(2, 5));
  s.ops_per_client = static_cast<int>(world.Uniform(10, 40));
  s.faults.drop = world.Chance(0.5) ? 0.0 : static_cast<double>(world.Uniform(0, 10)) / 100;
  s.faults.duplicate = world.Chance(0.5) ? 0.0 : static_cast<double>(world.Uniform(0, 10)) / 100;
  s.faults.min_delay = absl::Microseconds(static_cast<int64_t>(world.Uniform(50, 500)));
  s.faults.max_delay =
      s.faults.min_delay + absl::Milliseconds(static_cast<int64_t>(world.Uniform(0, 30)));
  s.nemesis_interval = absl::Milliseconds(static_cast<int64_t>(world.Uniform(50, 1000)));
  return s;
}

pb::ClusterConfig MakeConfig(const Scenario& s) {
  pb::ClusterConfig config;
  for (int i = 1; i <= s.nodes; ++i) {
    pb::NodeConfig* n = config.add_nodes();
    n->set_id(absl::StrCat("n", i));
    n->set_address(absl::StrCat("sim:", i));
  }
  config.set_replication_factor(s.replication);
  config.set_default_r(s.replication / 2 + 1);
  config.set_default_w(s.replication / 2 + 1);
  config.set_vnodes_per_node(8);
  config.set_replica_timeout_ms(500);
  (void)ApplyDefaultsAndValidate(config);
  return config;
}

class Simulation {
 public:
  Simulation(const RunOptions& options)
      : options_(options), world_(options.seed, options.trace), network_(&world_) {}

  RunResult Run();

 private:
  void StartCluster();
  void ClientStep(int client);
  void Issue(Op& op);
  void Complete(int op_id, Outcome outcome, std::string error);
  void NemesisStep();
  void Fault(const std::string& what);
  void HandoffPhase();
  void CrashDuringHandoff(const std::string& home);
  void HealAndRepair();
  CheckInput Finals();
  std::string RandomNode() { return absl::StrCat("n", world_.Uniform(1, scenario_.nodes)); }

  const RunOptions options_;
  SimWorld world_;
  SimNetwork network_;
  Scenario scenario_;
  pb::ClusterConfig config_;
  Recorder recorder_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  History history_;
  std::vector<int> ops_left_;
  // What each client knows of each key: the context it would write with,
  // and the writes it has truly seen.
  struct Knowledge {
    VersionVector context;
    std::set<int> observed;
  };
  std::vector<std::map<std::string, Knowledge>> known_;  // per client, per key
  // The writes a reader of `siblings` has seen: each one and all its writer
  // had seen.
  std::set<int> Observed(const std::vector<Sibling>& siblings) const;
  // Nodes whose disk holds `dot` of `key`: in their replica or in a hint.
  int DurableCopies(const std::string& key, const Dot& dot);
  std::set<std::string> keys_used_;
  int clients_running_ = 0;
  int crashes_during_handoff_ = 0;
  bool quiet_ = false;  // no more faults
};

void Simulation::StartCluster() {
  for (int i = 1; i <= scenario_.nodes; ++i) {
    nodes_.push_back(
        std::make_unique<SimNode>(SimNodeOptions{.id = absl::StrCat("n", i),
                                                 .config = config_,
                                                 .broken_merge = options_.broken_merge && i == 1},
                                  &world_, &network_, &recorder_));
    network_.Attach(nodes_.back().get());
    nodes_.back()->Start();
  }
}

void Simulation::ClientStep(int client) {
  if (ops_left_[client] == 0) {
    --clients_running_;
    return;
  }
  --ops_left_[client];
  Op op;
  op.id = static_cast<int>(history_.ops.size());
  op.client = client;
  op.key = absl::StrCat("k", world_.Uniform(1, scenario_.keys));
  keys_used_.insert(op.key);
  const uint64_t roll = world_.Uniform(0, 99);
  op.type = roll < 45 ? OpType::kPut : roll < 55 ? OpType::kDelete : OpType::kGet;
  op.quorum = static_cast<uint32_t>(world_.Uniform(1, scenario_.replication));
  op.coordinator = RandomNode();
  op.strict = world_.Chance(0.3);
  if (op.type == OpType::kPut) op.value = absl::StrCat("c", client, "-", op.id);
  if (op.is_write() && world_.Chance(0.75)) {
    auto it = known_[client].find(op.key);
    if (it != known_[client].end()) {
      op.context = it->second.context;
      op.observed = it->second.observed;
    }
  }
  op.invoke_ms = world_.ElapsedMs();
  history_.ops.push_back(op);
  Issue(history_.ops.back());
}

void Simulation::Issue(Op& op) {
  world_.Trace(absl::StrCat("invoke ", DescribeOp(op)));
  SimNode* node = network_.Find(op.coordinator);
  const int id = op.id;
  if (!node->up()) {
    world_.After(absl::Microseconds(100),
                 [this, id] { Complete(id, Outcome::kFail, "coordinator unreachable"); });
    return;
  }
  const absl::Time deadline = world_.now() + kClientTimeout;
  // The client gives up a little after its deadline if no answer came (the
  // coordinator may have crashed with the request in hand).
  world_.After(kClientTimeout + absl::Milliseconds(1), [this, id] {
    if (history_.ops[id].outcome == Outcome::kPending) {
      Complete(id, Outcome::kUnknown, "client deadline");
    }
  });
  auto status_outcome = [](const absl::Status& s) {
    return s.ok()                                            ? Outcome::kOk
           : s.code() == absl::StatusCode::kDeadlineExceeded ? Outcome::kUnknown
                                                             : Outcome::kFail;
  };
  recorder_.current_op = id;
  if (op.type == OpType::kGet) {
    pb::GetRequest request;
    request.set_key(op.key);
    request.set_r(op.quorum);
    request.set_strict(op.strict);
    node->replica().Get(request, deadline,
                        [this, id, status_outcome](absl::Status s, pb::GetResponse r) {
                          Op& op = history_.ops[id];
                          if (op.outcome != Outcome::kPending) return;
                          op.used_fallbacks = r.quorum().fallbacks_size() > 0;
                          if (s.ok()) {
                            for (const pb::Sibling& sib : r.siblings()) {
                              op.siblings.push_back(Sibling{.dot = *FromProto(sib.dot()),
                                                            .hlc = sib.hlc(),
                                                            .tombstone = sib.tombstone(),
                                                            .value = sib.value()});
                            }
                            op.read_context = *DecodeContext(r.context(), op.key);
                            op.observed = Observed(op.siblings);
                            known_[op.client][op.key] = Knowledge{op.read_context, op.observed};
                          }
                          Complete(id, status_outcome(s), std::string(s.message()));
                        });
  } else {
    pb::PutRequest request;
    request.set_key(op.key);
    request.set_value(op.value);
    request.set_tombstone(op.type == OpType::kDelete);
    request.set_w(op.quorum);
    request.set_strict(op.strict);
    request.set_context(EncodeContext(op.context, op.key));
    node->replica().Put(request, deadline,
                        [this, id, status_outcome](absl::Status s, pb::PutResponse r) {
                          Op& op = history_.ops[id];
                          if (op.outcome != Outcome::kPending) return;
                          if (r.has_dot()) op.dot = *FromProto(r.dot());
                          op.used_fallbacks = r.quorum().fallbacks_size() > 0;
                          if (s.ok() && op.dot) op.durable_copies = DurableCopies(op.key, *op.dot);
                          // Like a client doing read-modify-write, the next
                          // write may build on the context this put returned.
                          if (s.ok()) {
                            std::set<int> seen = op.observed;
                            seen.insert(op.id);
                            known_[op.client][op.key] =
                                Knowledge{*DecodeContext(r.context(), op.key), std::move(seen)};
                          }
                          Complete(id, status_outcome(s), std::string(s.message()));
                        });
  }
  recorder_.current_op = -1;
}

int Simulation::DurableCopies(const std::string& key, const Dot& dot) {
  int copies = 0;
  for (const auto& node : nodes_) {
    absl::StatusOr<std::optional<Object>> replica = node->ReadStored(key);
    bool holds = replica.ok() && replica->has_value() && (*replica)->context.Covers(dot);
    absl::StatusOr<std::map<std::string, Object>> hints = node->ReadHints(key);
    if (hints.ok()) {
      for (const auto& [home, hint] : *hints) holds = holds || hint.context.Covers(dot);
    }
    copies += holds ? 1 : 0;
  }
  return copies;
}

std::set<int> Simulation::Observed(const std::vector<Sibling>& siblings) const {
  std::set<int> seen;
  for (const Sibling& s : siblings) {
    auto it = recorder_.op_of_dot.find(s.dot);
    if (it == recorder_.op_of_dot.end()) continue;
    seen.insert(it->second);
    const std::set<int>& before = history_.ops[it->second].observed;
    seen.insert(before.begin(), before.end());
  }
  return seen;
}

void Simulation::Complete(int op_id, Outcome outcome, std::string error) {
  Op& op = history_.ops[op_id];
  if (op.outcome != Outcome::kPending) return;
  op.outcome = outcome;
  op.error = std::move(error);
  op.complete_ms = world_.ElapsedMs();
  world_.Trace(absl::StrCat("complete ", DescribeOp(op)));
  const int client = op.client;
  if (client >= scenario_.clients) return;  // the handoff phase's writer
  world_.After(world_.UniformDuration(absl::ZeroDuration(), absl::Milliseconds(50)),
               [this, client] { ClientStep(client); });
}

void Simulation::Fault(const std::string& what) {
  history_.faults.push_back(FaultEvent{world_.ElapsedMs(), what});
  world_.Trace(absl::StrCat("fault: ", what));
}

void Simulation::NemesisStep() {
  if (quiet_ || clients_running_ == 0) return;
  const uint64_t roll = world_.Uniform(0, 99);
  if (roll < 20) {
    // A partition into two sides.
    std::vector<std::string> a, b;
    for (const auto& n : nodes_) (world_.Chance(0.5) ? a : b).push_back(n->id());
    if (!a.empty() && !b.empty()) {
      for (const auto& x : a) {
        for (const auto& y : b) {
          network_.Block(x, y);
          network_.Block(y, x);
        }
      }
      Fault(absl::StrCat("partition ", absl::StrJoin(a, ","), " / ", absl::StrJoin(b, ",")));
    }
  } else if (roll < 35) {
    const std::string from = RandomNode(), to = RandomNode();
    if (from != to) {
      network_.Block(from, to);
      Fault(absl::StrCat("block ", from, "->", to, " (one way)"));
    }
  } else if (roll < 55) {
    network_.HealAll();
    Fault("heal");
  } else if (roll < 75) {
    SimNode* node = network_.Find(RandomNode());
    if (node->up()) {
      node->Crash();
      Fault(absl::StrCat("crash ", node->id()));
    }
  } else {
    for (const auto& n : nodes_) {
      if (!n->up()) {
        n->Start();
        Fault(absl::StrCat("restart ", n->id()));
        break;
      }
    }
  }
  const absl::Duration next =
      world_.UniformDuration(absl::ZeroDuration(), 2 * scenario_.nemesis_interval);
  world_.After(next, [this] { NemesisStep(); });
}

// With fallbacks to stand in (more nodes than N): heal, crash one node, let
// the failure detectors call it down, write every key at W=N sloppy so that
// fallbacks keep hints for it, then bring it back and crash a hint holder
// part way through the handoff.
void Simulation::HandoffPhase() {
  if (scenario_.nodes <= scenario_.replication) return;
  quiet_ = true;
  network_.HealAll();
  for (const auto& n : nodes_) n->Start();
  world_.RunUntil(world_.now() + absl::Seconds(1));
  SimNode* home = network_.Find(RandomNode());
  home->Crash();
  Fault(absl::StrCat("crash ", home->id(), " before the handoff writes"));
  world_.RunUntil(world_.now() + absl::Milliseconds(2500));
  const int client = scenario_.clients;  // a client of its own
  known_.resize(client + 1);
  // At least 8 keys, so that the crashed node is almost surely a home of some.
  for (int k = 1; k <= std::max(scenario_.keys, 8); ++k) {
    Op op;
    op.id = static_cast<int>(history_.ops.size());
    op.client = client;
    op.key = absl::StrCat("k", k);
    keys_used_.insert(op.key);
    op.type = OpType::kPut;
    op.quorum = static_cast<uint32_t>(scenario_.replication);
    do {
      op.coordinator = RandomNode();
    } while (op.coordinator == home->id());
    op.value = absl::StrCat("handoff-", op.id);
    op.invoke_ms = world_.ElapsedMs();
    history_.ops.push_back(op);
    Issue(history_.ops.back());
  }
  world_.RunUntil(world_.now() + kClientTimeout + absl::Milliseconds(10));
  home->Start();
  Fault(absl::StrCat("restart ", home->id()));
  CrashDuringHandoff(home->id());
}

// Once a fallback's failure detector sees `home` up again, it starts handing
// hints off. A node that still holds hints crashes part way through and
// comes back: what it had not handed off yet must still reach its homes.
void Simulation::CrashDuringHandoff(const std::string& home) {
  auto handing_off = [&](SimNode& n) {
    return n.up() && n.HintCount() > 0 &&
           n.replica().failure_detector().Healthy(home, world_.now());
  };
  const absl::Time give_up = world_.now() + absl::Seconds(1);
  while (world_.now() < give_up && std::none_of(nodes_.begin(), nodes_.end(),
                                                [&](const auto& n) { return handing_off(*n); })) {
    world_.RunUntil(world_.now() + absl::Milliseconds(5));
  }
  // Handoff ticks every 20 ms; crash somewhere in its first rounds.
  world_.RunUntil(world_.now() +
                  world_.UniformDuration(absl::ZeroDuration(), absl::Milliseconds(60)));
  std::vector<SimNode*> holders;
  for (const auto& n : nodes_) {
    if (n->up() && n->HintCount() > 0) holders.push_back(n.get());
  }
  if (holders.empty()) return;
  SimNode* node = holders[world_.Uniform(0, holders.size() - 1)];
  Fault(absl::StrCat("crash ", node->id(), " during handoff (", node->HintCount(), " hints left)"));
  node->Crash();
  ++crashes_during_handoff_;
  world_.RunUntil(world_.now() + world_.UniformDuration(absl::ZeroDuration(), absl::Seconds(1)));
  node->Start();
  Fault(absl::StrCat("restart ", node->id()));
}

void Simulation::HealAndRepair() {
  quiet_ = true;
  network_.SetFaults(LinkFaults{});
  network_.HealAll();
  for (const auto& n : nodes_) n->Start();
  Fault("final heal: every link restored, every node restarted");
  // Time for the failure detectors to see every node up and for hinted
  // handoff to deliver every hint.
  world_.RunUntil(world_.now() + kSettleTime);
  // Handoff moves a copy from a fallback to its home, never drops one: every
  // acknowledged write still has its W copies (before reads repair more).
  for (Op& op : history_.ops) {
    if (op.durable_copies >= 0 && op.dot) op.healed_copies = DurableCopies(op.key, *op.dot);
  }
  // A strict read of every key at R=N repairs every home replica that lacks
  // something (the only repair besides handoff before anti-entropy).
  pb::GetRequest request;
  request.set_r(scenario_.replication);
  request.set_strict(true);
  for (const std::string& key : keys_used_) {
    request.set_key(key);
    nodes_[0]->replica().Get(request, world_.now() + kClientTimeout,
                             [](absl::Status, pb::GetResponse) {});
  }
  world_.RunUntil(world_.now() + kSettleTime);
}

CheckInput Simulation::Finals() {
  CheckInput in{.history = &history_,
                .recorder = &recorder_,
                .replication = static_cast<uint32_t>(scenario_.replication)};
  for (const auto& node : nodes_) {
    if (size_t hints = node->HintCount(); hints > 0) {
      in.leftover_hints.push_back(absl::StrCat(node->id(), " still holds ", hints, " hints"));
    }
  }
  in.hints_expired = 0;
  for (const auto& node : nodes_) {
    if (node->up()) in.hints_expired += node->replica().handoff_stats().expired;
  }
  const Ring& ring = nodes_[0]->replica().ring();
  for (const std::string& key : keys_used_) {
    FinalKeyState& state = in.finals[key];
    state.home = ring.ForKey(key).home;
    for (const std::string& id : state.home) {
      absl::StatusOr<std::optional<Object>> stored = network_.Find(id)->ReadStored(key);
      state.replicas.push_back(stored.ok() && *stored ? **stored : Object());
    }
  }
  return in;
}

RunResult Simulation::Run() {
  current_world = &world_;
  scenario_ = DrawScenario(world_);
  config_ = MakeConfig(scenario_);
  network_.SetFaults(scenario_.faults);
  network_.SetRecorder(&recorder_);
  world_.Trace(absl::StrCat("seed ", options_.seed, ": ", DescribeScenario(scenario_)));
  StartCluster();
  ops_left_.assign(scenario_.clients, scenario_.ops_per_client);
  known_.resize(scenario_.clients);
  clients_running_ = scenario_.clients;
  for (int c = 0; c < scenario_.clients; ++c) ClientStep(c);
  world_.After(scenario_.nemesis_interval, [this] { NemesisStep(); });
  RunResult result;
  const absl::Time limit = world_.now() + kMaxRunTime;
  while (clients_running_ > 0 && world_.now() < limit) {
    result.events += world_.RunUntil(world_.now() + absl::Milliseconds(100));
  }
  HandoffPhase();
  HealAndRepair();
  CheckInput in = Finals();
  result.seed = options_.seed;
  result.scenario = scenario_;
  result.violations = CheckInvariants(in);
  result.ops = static_cast<int>(history_.ops.size());
  for (const Op& op : history_.ops) {
    const bool acked = op.is_write() && op.outcome == Outcome::kOk;
    result.acked_writes += acked;
    result.sloppy_writes += acked && op.used_fallbacks;
  }
  for (const auto& node : nodes_)
    result.hints_delivered += node->replica().handoff_stats().delivered;
  result.crashes_during_handoff = crashes_during_handoff_;
  result.faults = static_cast<int>(history_.faults.size());
  result.trace = world_.trace_lines();
  current_world = nullptr;
  return result;
}

}  // namespace

std::string DescribeScenario(const Scenario& s) {
  return absl::StrFormat(
      "%d nodes, N=%d, %d keys, %d clients x %d ops, drop %.0f%%, duplicate %.0f%%, delay "
      "%s..%s, a fault every ~%s",
      s.nodes, s.replication, s.keys, s.clients, s.ops_per_client, s.faults.drop * 100,
      s.faults.duplicate * 100, absl::FormatDuration(s.faults.min_delay),
      absl::FormatDuration(s.faults.max_delay), absl::FormatDuration(s.nemesis_interval));
}

RunResult RunSeed(const RunOptions& options) {
  static const bool sink_installed = [] {
    SetLogSink([](LogLevel, absl::string_view line) {
      if (current_world != nullptr) current_world->Trace(absl::StrCat("log: ", line));
    });
    return true;
  }();
  (void)sink_installed;
  Simulation simulation(options);
  return simulation.Run();
}

}  // namespace quorumkv::sim
