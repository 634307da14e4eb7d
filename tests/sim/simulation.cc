// The cluster of a simulated run and the run's phases: clients and nemesis
// together, a handoff phase, the final heal and repair, the checks.
#include "tests/sim/simulation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "replication/cluster_config.h"
#include "replication/partition_trees.h"

namespace quorumkv::sim {
namespace {

constexpr absl::Duration kMaxRunTime = absl::Seconds(120);
constexpr absl::Duration kSettleTime = absl::Seconds(5);
// Anti-entropy rounds after the final heal, and how long one may take. One
// is enough: no write comes after the heal, every node compares with every
// other home replica of each of its partitions, and merges only add, so
// each ends holding the merge of what every replica held.
constexpr int kRepairRounds = 1;
constexpr absl::Duration kRepairRoundLimit = absl::Seconds(60);

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
  // Rounds run under the faults too; after the final heal, asked rounds
  // alone repair what handoff did not (HealAndRepair).
  config.set_anti_entropy_interval_ms(
      static_cast<uint32_t>(absl::ToInt64Milliseconds(s.anti_entropy_interval)));
  config.set_anti_entropy_keys_per_second(100'000);
  config.set_sync_writes(s.sync_writes);
  if (s.max_hint_age > absl::ZeroDuration()) {
    config.set_max_hint_age_ms(static_cast<uint64_t>(absl::ToInt64Milliseconds(s.max_hint_age)));
  }
  config.set_tombstone_grace_ms(
      static_cast<uint64_t>(absl::ToInt64Milliseconds(s.tombstone_grace)));
  pb::NamespaceConfig* lww = config.add_namespaces();
  lww->set_name("lww");
  lww->set_conflict(pb::CONFLICT_LWW);
  pb::NamespaceConfig* safe = config.add_namespaces();
  safe->set_name("safe");
  safe->set_min_w(std::min(2, s.replication));
  (void)ApplyDefaultsAndValidate(config);
  return config;
}

Ring RingOf(const pb::ClusterConfig& config) {
  std::vector<std::string> ids;
  for (const pb::NodeConfig& n : config.nodes()) ids.push_back(n.id());
  return *Ring::Create(std::move(ids), config.vnodes_per_node(), config.replication_factor());
}

}  // namespace

Simulation::Simulation(const RunOptions& options, Scenario scenario)
    : options_(options),
      scenario_(std::move(scenario)),
      world_(options.seed, options.trace),
      network_(&world_),
      config_(MakeConfig(scenario_)),
      ring_(RingOf(config_)) {}

std::string Simulation::KeyName(int i) {
  if (i % 3 == 2) return absl::StrCat("safe/k", i);
  if (i % 3 == 0) return absl::StrCat("lww/k", i);
  return absl::StrCat("k", i);
}

bool Simulation::Lossy(const std::string& key) const {
  return ConflictPolicyFor(config_, key) == pb::CONFLICT_LWW;
}

uint32_t Simulation::MinW(const std::string& key) const { return MinWFor(config_, key); }

void Simulation::StartCluster() {
  for (int i = 1; i <= scenario_.nodes; ++i) {
    nodes_.push_back(std::make_unique<SimNode>(SimNodeOptions{.id = absl::StrCat("n", i),
                                                              .config = config_,
                                                              .skew = scenario_.skews[i - 1],
                                                              .mutation = options_.mutation},
                                               &world_, &network_, &recorder_));
    network_.Attach(nodes_.back().get());
    nodes_.back()->Start();
  }
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
  SimNode* home = Node(RandomNode());
  home->Crash();
  Fault(absl::StrCat("crash ", home->id(), " before the handoff writes"), "process crash");
  world_.RunUntil(world_.now() + absl::Milliseconds(2500));
  const int client = scenario_.clients;  // a client of its own
  known_.resize(client + 1);
  // At least 8 keys, so that the crashed node is almost surely a home of some.
  for (int k = 1; k <= std::max(scenario_.keys, 8); ++k) {
    Op op = NewOp(client, KeyName(k), OpType::kPut);
    op.quorum = static_cast<uint32_t>(scenario_.replication);
    do {
      op.coordinator = RandomNode();
    } while (op.coordinator == home->id());
    op.value = absl::StrCat("handoff-", op.id);
    history_.ops.push_back(op);
    Issue(history_.ops.back());
  }
  world_.RunUntil(world_.now() + kClientTimeout + absl::Milliseconds(10));
  home->Start();
  Fault(absl::StrCat("restart ", home->id()), "restart");
  CrashDuringHandoff(home->id());
}

// Once a fallback's failure detector sees `home` up again, it starts handing
// hints off. A node that still holds hints crashes part way through and
// comes back: what it had not handed off yet must still reach its homes.
void Simulation::CrashDuringHandoff(const std::string& home) {
  auto handing_off = [&](SimNode& n) {
    return n.up() && n.HintCount() > 0 &&
           n.replica().failure_detector().Healthy(home, n.clock()->Now());
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
  Fault(absl::StrCat("crash ", node->id(), " during handoff (", node->HintCount(), " hints left)"),
        "crash in handoff");
  node->Crash();
  world_.RunUntil(world_.now() + world_.UniformDuration(absl::ZeroDuration(), absl::Seconds(1)));
  node->Start();
  Fault(absl::StrCat("restart ", node->id()), "restart");
}

void Simulation::HealAndRepair() {
  quiet_ = true;
  network_.SetFaults(LinkFaults{});
  network_.HealAll();
  for (const auto& n : nodes_) n->Start();
  Fault("final heal: every link restored, every node restarted", "heal");
  // Time for the failure detectors to see every node up and for hinted
  // handoff to deliver every hint.
  world_.RunUntil(world_.now() + kSettleTime);
  // Handoff moves a copy from a fallback to its home, never drops one: every
  // acknowledged write still has its W copies (before reads repair more).
  for (Op& op : history_.ops) {
    if (op.durable_copies >= 0 && op.dot) op.healed_copies = DurableCopies(op.key, *op.dot);
  }
  // No read repairs anything here: anti-entropy alone brings the home
  // replicas together. Every node runs kRepairRounds rounds, one after the
  // other, each asked of every node at once (invariant 5 then checks that
  // they converged within that many).
  for (int round = 0; round < kRepairRounds; ++round) RunAntiEntropyRound();
}

void Simulation::RunAntiEntropyRound() {
  std::vector<std::pair<SimNode*, uint64_t>> asked;
  for (const auto& n : nodes_) {
    asked.emplace_back(n.get(), n->replica().anti_entropy().RequestRound(std::nullopt));
  }
  auto finished = [&] {
    for (const auto& [node, number] : asked) {
      if (node->replica().anti_entropy().stats().rounds_finished < number) return false;
    }
    return true;
  };
  const absl::Time give_up = world_.now() + kRepairRoundLimit;
  while (!finished() && world_.now() < give_up) {
    world_.RunUntil(world_.now() + absl::Milliseconds(100));
  }
}

// With tombstone purge on: a client reads every key, a node crashes, the
// client deletes every key it read (strict, W = N - 1: the crashed node
// misses the deletes), the node comes back; then the grace passes (the
// periodic rounds bring it the tombstones meanwhile), every node's round
// purges what every home replica holds, a node restarts (forgetting what
// it purged) and every node runs a round again, and the client reads every
// key strictly from all N home replicas. A deleted value must not be back
// (invariant 15), and the replicas must still agree, purged tombstones
// gone (5).
void Simulation::PurgePhase() {
  if (scenario_.tombstone_grace <= absl::ZeroDuration()) return;
  const int client = scenario_.clients + 1;  // a client of its own
  known_.resize(client + 1);
  ReadEveryKey(client);
  SimNode* missed = Node(RandomNode());
  missed->Crash();
  Fault(absl::StrCat("crash ", missed->id(), " before the deletes"), "process crash");
  world_.RunUntil(world_.now() + absl::Milliseconds(2500));  // the detectors see it down
  const std::set<std::string> keys = keys_used_;
  for (const std::string& key : keys) {
    Op op = NewOp(client, key, OpType::kDelete);
    op.quorum = static_cast<uint32_t>(std::max(1, scenario_.replication - 1));
    op.strict = true;
    do {
      op.coordinator = RandomNode();
    } while (op.coordinator == missed->id() && scenario_.nodes > 1);
    auto it = known_[client].find(key);
    if (it != known_[client].end()) {
      op.context = it->second.context;
      op.observed = it->second.observed;
    }
    history_.ops.push_back(op);
    Issue(history_.ops.back());
  }
  world_.RunUntil(world_.now() + kClientTimeout + absl::Milliseconds(10));
  missed->Start();
  Fault(absl::StrCat("restart ", missed->id()), "restart");
  world_.RunUntil(world_.now() + scenario_.tombstone_grace + absl::Seconds(1));
  RunAntiEntropyRound();
  SimNode* forgets = Node(RandomNode());
  forgets->Crash();
  Fault(absl::StrCat("crash ", forgets->id(), " after the purge"), "process crash");
  forgets->Start();
  Fault(absl::StrCat("restart ", forgets->id()), "restart");
  world_.RunUntil(world_.now() + absl::Milliseconds(300));  // the detectors see it up
  RunAntiEntropyRound();
  ReadEveryKey(client);
}

void Simulation::ReadEveryKey(int client) {
  const std::set<std::string> keys = keys_used_;
  for (const std::string& key : keys) {
    Op op = NewOp(client, key, OpType::kGet);
    op.quorum = static_cast<uint32_t>(scenario_.replication);
    op.strict = true;
    op.coordinator = RandomNode();
    history_.ops.push_back(op);
    Issue(history_.ops.back());
  }
  world_.RunUntil(world_.now() + kClientTimeout + absl::Milliseconds(10));
}

void Simulation::CompareTrees(SimNode& node, CheckInput& in) {
  PartitionTrees rebuilt(&ring_);
  if (absl::Status built = rebuilt.Build(node.store()); !built.ok()) {
    in.tree_mismatches.push_back(
        absl::StrCat(node.id(), ": cannot read its store: ", built.message()));
    return;
  }
  for (uint32_t p = 0; p < ring_.partition_count(); ++p) {
    ++in.trees_checked;
    if (node.replica().trees().Root(p) != rebuilt.Root(p)) {
      in.tree_mismatches.push_back(
          absl::StrCat(node.id(), ": the tree of partition ", p, " differs from its store"));
    }
  }
}

CheckInput Simulation::Finals() {
  CheckInput in{.history = &history_,
                .recorder = &recorder_,
                .replication = static_cast<uint32_t>(scenario_.replication),
                .destroyed = destroyed_,
                .lossy = [this](const std::string& key) { return Lossy(key); }};
  for (const auto& node : nodes_) {
    if (size_t hints = node->HintCount(); hints > 0) {
      in.leftover_hints.push_back(absl::StrCat(node->id(), " still holds ", hints, " hints"));
    }
    if (node->up()) in.durable_expired[node->id()] = node->replica().handoff_stats().expired;
    if (node->up()) CompareTrees(*node, in);
  }
  for (const std::string& key : keys_used_) {
    FinalKeyState& state = in.finals[key];
    state.home = ring_.ForKey(key).home;
    for (const std::string& id : state.home) {
      absl::StatusOr<std::optional<Object>> stored = Node(id)->ReadStored(key);
      state.replicas.push_back(stored.ok() && *stored ? **stored : Object());
    }
  }
  return in;
}

void Simulation::CountCoverage(RunResult& result) const {
  std::map<std::string, uint64_t> faults = fault_counts_;
  if (scenario_.faults.drop > 0) ++faults["message drop"];
  if (scenario_.faults.duplicate > 0) ++faults["message duplicate"];
  if (!scenario_.sync_writes) ++faults["sync_writes off"];
  for (absl::Duration skew : scenario_.skews) faults["clock skew"] += skew != absl::ZeroDuration();
  for (const auto& [node, n] : recorder_.hints_expired) faults["hint expired"] += n;
  for (const Op& op : history_.ops) {
    faults["lww write"] += op.is_write() && Lossy(op.key);
    faults["forged context"] += op.forged;
    faults["session read escalated"] += op.session_reads > 1;
    faults["staleness bound from a watermark"] +=
        op.reply_quorum && op.reply_quorum->staleness_bound_ms() > 0;
    faults["session read refused"] +=
        op.session && op.type == OpType::kGet && op.code == absl::StatusCode::kFailedPrecondition;
  }
  faults["tombstone purged"] += recorder_.tombstones_purged;
  result.coverage.faults = std::move(faults);
}

RunResult Simulation::Run() {
  SetCurrentWorld(&world_);
  network_.SetFaults(scenario_.faults);
  network_.SetRecorder(&recorder_);
  // A hint dropped for age may take a write's last copy, after a fault took
  // the others.
  recorder_.on_copy_dropped = [this] { NoteDestroyedWrites(); };
  recorder_.now_ms = [this] { return world_.ElapsedMs(); };
  world_.Trace(absl::StrCat("seed ", options_.seed, ": ", DescribeScenario(scenario_)));
  StartCluster();
  ops_left_.assign(scenario_.clients, scenario_.ops_per_client);
  known_.resize(scenario_.clients);
  sessions_.resize(scenario_.clients);
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
  PurgePhase();
  const CheckResult checked = CheckInvariants(Finals());
  result.seed = options_.seed;
  result.scenario = scenario_;
  result.violations = checked.violations;
  result.coverage.checks = checked.checks;
  result.lww_losses = checked.lww_losses;
  result.destroyed_writes = destroyed_.size();
  CountCoverage(result);
  result.ops = static_cast<int>(history_.ops.size());
  for (const Op& op : history_.ops) {
    const bool acked = op.is_write() && op.outcome == Outcome::kOk;
    result.acked_writes += acked;
    result.sloppy_writes += acked && op.used_fallbacks;
  }
  for (const auto& node : nodes_)
    result.hints_delivered += node->replica().handoff_stats().delivered;
  result.trace = world_.trace_lines();
  SetCurrentWorld(nullptr);
  return result;
}

}  // namespace quorumkv::sim
