// The nemesis of a simulated run: partitions, one-way blocks, heals,
// crashes and restarts, and the faults that lose data — a power loss, a log
// that loses its tail, a wiped disk.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/sim/simulation.h"

namespace quorumkv::sim {

void Simulation::Fault(const std::string& what, const std::string& kind, bool data_loss) {
  history_.faults.push_back(FaultEvent{world_.ElapsedMs(), what, data_loss});
  ++fault_counts_[kind];
  world_.Trace(absl::StrCat("fault: ", what));
}

void Simulation::Partition() {
  std::vector<std::string> a, b;
  for (const auto& n : nodes_) (world_.Chance(0.5) ? a : b).push_back(n->id());
  if (a.empty() || b.empty()) return;
  for (const auto& x : a) {
    for (const auto& y : b) {
      network_.Block(x, y);
      network_.Block(y, x);
    }
  }
  Fault(absl::StrCat("partition ", absl::StrJoin(a, ","), " / ", absl::StrJoin(b, ",")),
        "partition");
}

void Simulation::LoseData(SimNode& node) {
  const uint64_t roll = world_.Uniform(0, 9);
  if (roll < 5) {
    node.PowerLoss();
    Fault(absl::StrCat("power loss at ", node.id(), ": its unsynced writes are gone"), "power loss",
          true);
  } else if (roll < 8) {
    const size_t lost = node.LoseLogTail(world_.Uniform(1, 8));
    Fault(absl::StrCat(node.id(), " crashes and its log loses its last ", lost, " synced writes"),
          "log tail loss", true);
  } else {
    node.Wipe();
    Fault(absl::StrCat(node.id(), " crashes and its disk is replaced by an empty one"), "disk wipe",
          true);
  }
  NoteDestroyedWrites();
}

void Simulation::NoteDestroyedWrites() {
  for (const Op& op : history_.ops) {
    if (!op.is_write()) continue;
    auto dot = recorder_.dot_of_op.find(op.id);
    if (dot == recorder_.dot_of_op.end() || destroyed_.count(dot->second) > 0) continue;
    if (recorder_.stored.count(dot->second) == 0) continue;
    if (DurableCopies(op.key, dot->second) == 0) {
      destroyed_.insert(dot->second);
      world_.Trace(absl::StrCat("every copy of write #", op.id, " (", DotToString(dot->second),
                                ") is gone"));
    }
  }
}

void Simulation::NemesisStep() {
  if (quiet_ || clients_running_ == 0) return;
  const uint64_t roll = world_.Uniform(0, 99);
  if (roll < 20) {
    Partition();
  } else if (roll < 35) {
    const std::string from = RandomNode(), to = RandomNode();
    if (from != to) {
      network_.Block(from, to);
      Fault(absl::StrCat("block ", from, "->", to, " (one way)"), "one-way block");
    }
  } else if (roll < 53) {
    network_.HealAll();
    Fault("heal", "heal");
  } else if (roll < 68) {
    SimNode* node = Node(RandomNode());
    if (node->up()) {
      node->Crash();
      Fault(absl::StrCat("crash ", node->id()), "process crash");
    }
  } else if (roll < 71) {
    SimNode* node = Node(RandomNode());
    if (node->up()) LoseData(*node);
  } else {
    for (const auto& n : nodes_) {
      if (!n->up()) {
        n->Start();
        Fault(absl::StrCat("restart ", n->id()), "restart");
        break;
      }
    }
  }
  const absl::Duration next =
      world_.UniformDuration(absl::ZeroDuration(), 2 * scenario_.nemesis_interval);
  world_.After(next, [this] { NemesisStep(); });
}

}  // namespace quorumkv::sim
