// The history of a scenario run (kvharness run): every operation a client
// invoked and how it completed, and every fault the nemesis injected, in
// the order they happened. Written as JSON lines, one event per line:
//
//   {"type":"invoke","op":7,"client":1,"f":"write","key":"k3","value":"c1-4",
//    "node":"n2","time_us":120345,"context":{"n1.3f..":4}}
//   {"type":"ok","op":7,"time_us":121002,"dot":{"actor":"n2.77..","counter":9},
//    "quorum":{"coordinator":"n2","replied":["n2","n3"],...}}
//   {"type":"nemesis","time_us":2000113,"command":"partition n1 / n2,n3"}
//
// An operation's completion is "ok", "fail" (it certainly had no effect: a
// read, or a write refused as invalid) or "info" (its outcome is unknown: a
// write that timed out or missed its quorum may still be on some replica).
#ifndef QUORUMKV_TOOLS_KVHARNESS_HISTORY_H_
#define QUORUMKV_TOOLS_KVHARNESS_HISTORY_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "replication/version_vector.h"

namespace quorumkv {

enum class OpKind { kRead, kWrite, kDelete };
enum class Outcome { kPending, kOk, kFail, kInfo };

const char* OpKindName(OpKind kind);
const char* OutcomeName(Outcome outcome);

struct SeenSibling {
  std::string value;
  bool tombstone = false;
  Dot dot;
  // Of the write that made it. Copies of one write (a retry applied by two
  // coordinators) share it and their value, under different dots.
  std::string idempotency_key;
};

// What a reply said about its quorum (kv.proto QuorumInfo, in part).
struct SeenQuorum {
  std::string coordinator;
  std::vector<std::string> replied;    // home replicas and fallbacks that answered
  std::vector<std::string> fallbacks;  // the fallbacks among them
  std::vector<std::string> repaired;
  uint32_t home_acks = 0;  // replied minus fallbacks
  bool strict_overlap = false;
  uint32_t covers_w = 0;
  std::optional<int64_t> staleness_bound_ms;  // a read's proven bound, if known
};

// One operation, from its invocation to its completion.
struct Operation {
  int64_t id = 0;
  int client = 0;  // -1: the harness's own final reads
  OpKind kind = OpKind::kRead;
  std::string key;
  std::string value;            // a write's
  std::string node;             // the node the client asked first
  VersionVector context;        // a write's or delete's: the context it sent
  std::string idempotency_key;  // a write's or delete's
  bool session = false;         // in its client's session
  uint32_t session_reads = 0;   // a session read's reads (above 1: it escalated)
  int64_t invoke_us = 0;        // since the run began
  int64_t complete_us = -1;
  Outcome outcome = Outcome::kPending;
  // Completed ok:
  std::optional<Dot> dot;  // a write's or delete's new sibling
  bool found = false;      // a read's
  std::vector<SeenSibling> siblings;
  VersionVector read_context;  // a read's: what its reply covers
  // Completed in any way:
  std::optional<SeenQuorum> quorum;
  std::string error;  // fail or info: the status, "UNAVAILABLE: ..."
};

// A fault the nemesis injected (or undid), as a kvharness command.
struct NemesisRecord {
  int64_t time_us = 0;
  std::string command;
  std::string error;  // the command failed
};

struct History {
  std::vector<Operation> operations;  // by id
  std::vector<NemesisRecord> nemesis;
  int64_t heal_us = -1;  // the final heal
  int64_t end_us = 0;
};

// Collects a run's events and appends them to a JSON-lines file as they
// happen (flushed per line, so a crashed run leaves what it saw).
// Thread-safe.
class HistoryRecorder {
 public:
  // Creates (truncates) `path`.
  static absl::StatusOr<std::unique_ptr<HistoryRecorder>> Create(const std::string& path);
  ~HistoryRecorder();

  // Microseconds since the recorder was created.
  int64_t Now() const;
  // Records the invocation of `op` (its id is assigned here and returned).
  int64_t Invoke(Operation op);
  // Records the completion of operation `completed.id`: every field but
  // those of the invocation.
  void Complete(const Operation& completed);
  void Nemesis(const std::string& command, const std::string& error);
  void FinalHeal();

  // A copy of everything recorded so far.
  History Snapshot() const;

 private:
  HistoryRecorder(std::FILE* file, int64_t start_ns);
  void WriteLine(const std::string& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int64_t start_ns_;
  mutable absl::Mutex mu_;
  std::FILE* const file_ ABSL_PT_GUARDED_BY(mu_);
  History history_ ABSL_GUARDED_BY(mu_);
};

// Reads a history written by HistoryRecorder. INVALID_ARGUMENT naming the
// line for a line that is not an event.
absl::StatusOr<History> ReadHistory(const std::string& path);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_HISTORY_H_
