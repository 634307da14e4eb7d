// The Simulation behind RunSeed (sim_run.h), split by concern: the cluster
// and the run's phases (simulation.cc), the clients (sim_clients.cc) and
// the nemesis (sim_nemesis.cc).
#ifndef QUORUMKV_TESTS_SIM_SIMULATION_H_
#define QUORUMKV_TESTS_SIM_SIMULATION_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client/session.h"
#include "client/session_read.h"
#include "proto/config.pb.h"
#include "replication/ring.h"
#include "tests/sim/checker.h"
#include "tests/sim/history.h"
#include "tests/sim/recorder.h"
#include "tests/sim/sim_network.h"
#include "tests/sim/sim_node.h"
#include "tests/sim/sim_run.h"
#include "tests/sim/sim_world.h"

namespace quorumkv::sim {

inline constexpr absl::Duration kClientTimeout = absl::Seconds(1);

// The world whose trace the core's log lines go to, on this thread.
void SetCurrentWorld(SimWorld* world);

class Simulation {
 public:
  Simulation(const RunOptions& options, Scenario scenario);

  RunResult Run();

 private:
  // The cluster (simulation.cc).
  void StartCluster();
  SimNode* Node(const std::string& id) { return network_.Find(id); }
  std::string RandomNode() { return absl::StrCat("n", world_.Uniform(1, scenario_.nodes)); }
  // Key i (1-based): "k<i>", "safe/k<i>" (min_w) or "lww/k<i>" (last writer wins).
  static std::string KeyName(int i);
  bool Lossy(const std::string& key) const;  // in the last-writer-wins namespace
  uint32_t MinW(const std::string& key) const;

  // The clients (sim_clients.cc).
  void ClientStep(int client);
  Op NewOp(int client, const std::string& key, OpType type);
  void Issue(Op& op);
  void IssueGet(int id, SimNode* node, absl::Time deadline);
  // A session client's get: the escalation ladder of client/session_read.h,
  // one read after another, each through the node the ladder names (or a
  // random one), all within the op's deadline.
  void IssueSessionGet(int id);
  void SendSessionRead(int id);
  void OnSessionRead(int id, size_t attempt, const absl::Status& status, pb::GetResponse response);
  bool IsSessionClient(int client) const { return client < scenario_.clients && client % 2 == 0; }
  void IssuePut(int id, SimNode* node, absl::Time deadline);
  // `mutate`: apply the reply mutations (MutateQuorum); a session read's
  // replies had them applied as they arrived.
  void OnGetDone(int id, const absl::Status& status, pb::GetResponse response, bool mutate = true);
  void OnPutDone(int id, absl::Status status, const pb::PutResponse& response);
  void Complete(int op_id, const absl::Status& status);
  // The context of a hostile write: what the client knows, plus an entry
  // the cluster never issued.
  VersionVector ForgedContext(const VersionVector& known);
  // What the run's mutation does to a reply on its way to the client.
  void MutateQuorum(pb::QuorumInfo& quorum);
  // The writes a reader of `siblings` has seen: each one and all its writer
  // had seen.
  std::set<int> Observed(const std::vector<Sibling>& siblings) const;
  // Whether `node`'s disk holds `dot` of `key`: in its replica or in a hint.
  bool Holds(SimNode& node, const std::string& key, const Dot& dot);
  // Nodes whose disk holds `dot` of `key`: in their replica or in a hint.
  int DurableCopies(const std::string& key, const Dot& dot);
  // Nodes not holding `dot` of `key` now that held it in a hint dropped for age.
  int ExpiredCopies(const std::string& key, const Dot& dot);
  // What each home replica of `key` holds durably now.
  std::map<std::string, VersionVector> HomeContexts(const std::string& key);

  // The nemesis (sim_nemesis.cc).
  void NemesisStep();
  void Fault(const std::string& what, const std::string& kind, bool data_loss = false);
  void Partition();
  void LoseData(SimNode& node);
  // Records the writes whose every copy is gone now.
  void NoteDestroyedWrites();
  void HandoffPhase();
  void CrashDuringHandoff(const std::string& home);
  void HealAndRepair();
  // Asks every node for a round, and runs until all have ended (bounded).
  void RunAntiEntropyRound();
  void PurgePhase();
  // `client` reads every key used, strict, R = N, and waits for the answers.
  void ReadEveryKey(int client);

  CheckInput Finals();
  // Invariant 14 for `node`: its maintained trees against its store's.
  void CompareTrees(SimNode& node, CheckInput& in);
  void CountCoverage(RunResult& result) const;

  const RunOptions options_;
  const Scenario scenario_;
  SimWorld world_;
  SimNetwork network_;
  pb::ClusterConfig config_;
  Ring ring_;
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
  std::vector<std::map<std::string, Knowledge>> known_;        // per client, per key
  std::vector<Session> sessions_;                              // per client (session clients only)
  std::map<int, std::unique_ptr<SessionRead>> session_reads_;  // by op id, while running
  std::set<std::string> keys_used_;
  std::set<Dot> destroyed_;  // writes every copy of which a fault destroyed
  std::map<std::string, uint64_t> fault_counts_;
  int clients_running_ = 0;
  bool quiet_ = false;  // no more faults
};

}  // namespace quorumkv::sim

#endif  // QUORUMKV_TESTS_SIM_SIMULATION_H_
