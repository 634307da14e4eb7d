// The clients of a simulated run: puts, deletes and gets on a few hot keys
// through random nodes, each building its writes on what it has read, and
// a hostile one whose writes carry forged contexts.
#include <cstdio>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "replication/object_codec.h"
#include "tests/sim/simulation.h"

namespace quorumkv::sim {
namespace {

// A session refusing what a node returned is a bug of the node (a context
// that does not decode): the run stops there.
void MustSucceed(const absl::Status& status) {
  if (status.ok()) return;
  std::fprintf(stderr, "kvsim: a session refused a reply: %s\n", status.ToString().c_str());
  std::abort();
}

Outcome OutcomeOf(const absl::Status& s) {
  return s.ok()                                            ? Outcome::kOk
         : s.code() == absl::StatusCode::kDeadlineExceeded ? Outcome::kUnknown
                                                           : Outcome::kFail;
}

}  // namespace

Op Simulation::NewOp(int client, const std::string& key, OpType type) {
  Op op;
  op.id = static_cast<int>(history_.ops.size());
  op.client = client;
  op.key = key;
  op.type = type;
  op.invoke_ms = world_.ElapsedMs();
  keys_used_.insert(key);
  return op;
}

void Simulation::ClientStep(int client) {
  if (ops_left_[client] == 0) {
    --clients_running_;
    return;
  }
  --ops_left_[client];
  const std::string key = KeyName(static_cast<int>(world_.Uniform(1, scenario_.keys)));
  const uint64_t roll = world_.Uniform(0, 99);
  Op op = NewOp(client, key, roll < 45 ? OpType::kPut : roll < 55 ? OpType::kDelete : OpType::kGet);
  const uint32_t n = static_cast<uint32_t>(scenario_.replication);
  // Writes of a min_w namespace mostly ask for enough acks to be taken.
  const uint32_t lowest = op.is_write() && world_.Chance(0.9) ? MinW(key) : 1;
  op.quorum = static_cast<uint32_t>(world_.Uniform(lowest, n));
  op.coordinator = RandomNode();
  op.strict = world_.Chance(0.3);
  op.session = IsSessionClient(client);
  if (op.session && op.type == OpType::kGet && world_.Chance(0.3)) {
    op.max_staleness_ms = static_cast<int64_t>(world_.Uniform(0, 1)) * 500;
    op.allow_stale = world_.Chance(0.5);
  }
  if (op.type == OpType::kPut) op.value = absl::StrCat("c", client, "-", op.id);
  if (op.is_write() && world_.Chance(0.75)) {
    auto it = known_[client].find(op.key);
    if (it != known_[client].end()) {
      op.context = it->second.context;
      op.observed = it->second.observed;
    }
  }
  if (op.is_write() && world_.Chance(scenario_.forged_rate)) {
    op.forged = true;
    op.context = ForgedContext(op.context);
  }
  history_.ops.push_back(op);
  Issue(history_.ops.back());
}

VersionVector Simulation::ForgedContext(const VersionVector& known) {
  VersionVector forged = known;
  const uint64_t roll = world_.Uniform(0, 2);
  if (roll == 0 && !known.empty()) {
    // A real actor, far past anything it issued.
    const auto& [actor, counter] = known.entries()[world_.Uniform(0, known.size() - 1)];
    forged.Add(Dot{actor, counter + (uint64_t{1} << 40)});
  } else if (roll == 1) {
    forged.Add(Dot{"zz.00000000", 1});  // of no node of the cluster
  } else {
    forged.Add(Dot{absl::StrCat(RandomNode(), ".deadbeef"), 5});  // an epoch never used
  }
  return forged;
}

void Simulation::Issue(Op& op) {
  world_.Trace(absl::StrCat("invoke ", DescribeOp(op)));
  SimNode* node = Node(op.coordinator);
  const int id = op.id;
  if (!node->up()) {
    world_.After(absl::Microseconds(100),
                 [this, id] { Complete(id, absl::UnavailableError("coordinator unreachable")); });
    return;
  }
  // The client gives up a little after its deadline if no answer came (the
  // coordinator may have crashed with the request in hand).
  world_.After(kClientTimeout + absl::Milliseconds(1), [this, id] {
    if (history_.ops[id].outcome == Outcome::kPending) {
      Complete(id, absl::DeadlineExceededError("client deadline"));
    }
  });
  const absl::Time deadline = node->clock()->Now() + kClientTimeout;
  recorder_.current_op = id;
  if (op.type == OpType::kGet) {
    op.home_contexts = HomeContexts(op.key);
    if (op.session && options_.mutation != Mutation::kSessionTrustsFirstReply) {
      IssueSessionGet(id);
    } else {
      IssueGet(id, node, deadline);
    }
  } else {
    IssuePut(id, node, deadline);
  }
  recorder_.current_op = -1;
}

void Simulation::IssueGet(int id, SimNode* node, absl::Time deadline) {
  const Op& op = history_.ops[id];
  pb::GetRequest request;
  request.set_key(op.key);
  request.set_r(op.quorum);
  request.set_strict(op.strict);
  node->replica().Get(request, deadline, [this, id](absl::Status s, pb::GetResponse r) {
    OnGetDone(id, s, std::move(r));
  });
}

void Simulation::IssueSessionGet(int id) {
  const Op& op = history_.ops[id];
  SessionReadOptions options{.r = op.quorum, .strict = op.strict, .allow_stale = op.allow_stale};
  if (op.max_staleness_ms) options.max_staleness = absl::Milliseconds(*op.max_staleness_ms);
  session_reads_[id] =
      std::make_unique<SessionRead>(&sessions_[op.client], op.key, options,
                                    [this, key = op.key] { return ring_.ForKey(key).home; });
  SendSessionRead(id);
}

void Simulation::SendSessionRead(int id) {
  const Op& op = history_.ops[id];
  const SessionRead& read = *session_reads_.at(id);
  const ReadAttempt& attempt = read.next();
  const size_t index = read.attempt_index();
  SimNode* node = Node(!attempt.via.empty() ? attempt.via
                       : index == 0         ? op.coordinator
                                            : RandomNode());
  if (!node->up()) {
    world_.After(absl::Microseconds(100), [this, id, index] {
      OnSessionRead(id, index, absl::UnavailableError("coordinator unreachable"), {});
    });
    return;
  }
  // The client's deadline is absolute: what is left of it, on this node's
  // clock. None left: the client's timer ends the op (DEADLINE_EXCEEDED).
  const absl::Duration left =
      kClientTimeout - absl::Milliseconds(world_.ElapsedMs() - op.invoke_ms);
  if (left <= absl::ZeroDuration()) {
    session_reads_.erase(id);
    return;
  }
  pb::GetRequest request;
  request.set_key(op.key);
  request.set_r(attempt.r);
  request.set_strict(attempt.strict);
  recorder_.current_op = id;
  node->replica().Get(request, node->clock()->Now() + left,
                      [this, id, index](absl::Status s, pb::GetResponse r) {
                        OnSessionRead(id, index, s, std::move(r));
                      });
  recorder_.current_op = -1;
}

void Simulation::OnSessionRead(int id, size_t attempt, const absl::Status& status,
                               pb::GetResponse response) {
  auto it = session_reads_.find(id);
  if (it == session_reads_.end()) return;
  Op& op = history_.ops[id];
  SessionRead& read = *it->second;
  if (op.outcome != Outcome::kPending) {
    session_reads_.erase(it);  // the client gave up at its deadline
    return;
  }
  if (read.attempt_index() != attempt) return;  // a duplicate answer
  MutateQuorum(*response.mutable_quorum());
  read.OnReply(status.ok() ? absl::StatusOr<pb::GetResponse>(std::move(response))
                           : absl::StatusOr<pb::GetResponse>(status));
  if (!read.done()) {
    SendSessionRead(id);
    return;
  }
  absl::StatusOr<pb::GetResponse> result = std::move(read).TakeResult();
  op.session_reads = static_cast<uint32_t>(attempt + 1);  // the reply just fed was the last
  session_reads_.erase(it);
  if (!result.ok()) {
    OnGetDone(id, result.status(), pb::GetResponse(), /*mutate=*/false);
    return;
  }
  OnGetDone(id, absl::OkStatus(), *std::move(result), /*mutate=*/false);
}

void Simulation::OnGetDone(int id, const absl::Status& status, pb::GetResponse response,
                           bool mutate) {
  Op& op = history_.ops[id];
  if (op.outcome != Outcome::kPending) return;
  if (mutate) MutateQuorum(*response.mutable_quorum());
  op.reply_quorum = response.quorum();
  op.used_fallbacks = response.quorum().fallbacks_size() > 0;
  if (status.ok()) {
    for (const pb::Sibling& sib : response.siblings()) {
      op.siblings.push_back(Sibling{.dot = *FromProto(sib.dot()),
                                    .hlc = sib.hlc(),
                                    .tombstone = sib.tombstone(),
                                    .value = sib.value()});
    }
    op.read_context = *DecodeContext(response.context(), op.key);
    op.observed = Observed(op.siblings);
    known_[op.client][op.key] = Knowledge{op.read_context, op.observed};
    if (op.session) MustSucceed(sessions_[op.client].RecordRead(op.key, response));
  }
  Complete(id, status);
}

void Simulation::IssuePut(int id, SimNode* node, absl::Time deadline) {
  const Op& op = history_.ops[id];
  pb::PutRequest request;
  request.set_key(op.key);
  request.set_value(op.value);
  request.set_tombstone(op.type == OpType::kDelete);
  request.set_w(op.quorum);
  request.set_strict(op.strict);
  VersionVector context = op.context;
  if (op.forged && options_.mutation == Mutation::kAcceptForgedContexts) {
    context = known_[op.client][op.key].context;  // the forgery stripped on the way
  }
  request.set_context(EncodeContext(context, op.key));
  node->replica().Put(request, deadline, [this, id](absl::Status s, pb::PutResponse r) {
    OnPutDone(id, std::move(s), r);
  });
}

void Simulation::OnPutDone(int id, absl::Status status, const pb::PutResponse& response) {
  Op& op = history_.ops[id];
  if (op.outcome != Outcome::kPending) return;
  if (!status.ok() && options_.mutation == Mutation::kClaimNothingWritten) {
    status = absl::Status(status.code(), absl::StrCat(status.message(), "; nothing written"));
  }
  pb::QuorumInfo quorum = response.quorum();
  MutateQuorum(quorum);
  op.reply_quorum = quorum;
  if (response.has_dot()) op.dot = *FromProto(response.dot());
  op.used_fallbacks = quorum.fallbacks_size() > 0;
  if (status.ok() && op.dot) {
    op.durable_copies = DurableCopies(op.key, *op.dot);
    op.expired_copies = ExpiredCopies(op.key, *op.dot);
  }
  // Like a client doing read-modify-write, the next write may build on the
  // context this put returned.
  if (status.ok() && op.session) MustSucceed(sessions_[op.client].RecordWrite(op.key, response));
  if (status.ok() && !op.forged) {
    std::set<int> seen = op.observed;
    seen.insert(op.id);
    known_[op.client][op.key] =
        Knowledge{*DecodeContext(response.context(), op.key), std::move(seen)};
  }
  Complete(id, status);
}

void Simulation::MutateQuorum(pb::QuorumInfo& quorum) {
  if (options_.mutation == Mutation::kUnderstateStaleness) quorum.set_staleness_bound_ms(0);
  if (options_.mutation == Mutation::kOverclaimOverlap) {
    quorum.set_strict_overlap(true);
    quorum.set_covers_w(1);
  }
  if (options_.mutation == Mutation::kMisreportReplies && quorum.replied_size() > 0) {
    // Name a node as having answered as the first one did, which it did not.
    pb::ReplicaAnswer* answer = quorum.mutable_replied(0);
    answer->set_fallback(!answer->fallback());
    answer->set_hinted_for(answer->fallback() ? answer->node() : "");
  }
}

void Simulation::Complete(int op_id, const absl::Status& status) {
  Op& op = history_.ops[op_id];
  if (op.outcome != Outcome::kPending) return;
  op.outcome = OutcomeOf(status);
  op.code = status.code();
  op.error = std::string(status.message());
  op.complete_ms = world_.ElapsedMs();
  world_.Trace(absl::StrCat("complete ", DescribeOp(op)));
  const int client = op.client;
  if (client >= scenario_.clients) return;  // the handoff phase's writer
  world_.After(world_.UniformDuration(absl::ZeroDuration(), absl::Milliseconds(50)),
               [this, client] { ClientStep(client); });
}

bool Simulation::Holds(SimNode& node, const std::string& key, const Dot& dot) {
  absl::StatusOr<std::optional<Object>> replica = node.ReadStored(key);
  bool holds = replica.ok() && replica->has_value() && (*replica)->context.Covers(dot);
  absl::StatusOr<std::map<std::string, Object>> hints = node.ReadHints(key);
  if (hints.ok()) {
    for (const auto& [home, hint] : *hints) holds = holds || hint.context.Covers(dot);
  }
  return holds;
}

int Simulation::DurableCopies(const std::string& key, const Dot& dot) {
  int copies = 0;
  for (const auto& node : nodes_) copies += Holds(*node, key, dot) ? 1 : 0;
  return copies;
}

int Simulation::ExpiredCopies(const std::string& key, const Dot& dot) {
  auto expired = recorder_.expired_hints.find(key);
  if (expired == recorder_.expired_hints.end()) return 0;
  std::set<std::string> nodes;
  for (const auto& [node, context] : expired->second) {
    if (context.Covers(dot) && !Holds(*Node(node), key, dot)) nodes.insert(node);
  }
  return static_cast<int>(nodes.size());
}

std::map<std::string, VersionVector> Simulation::HomeContexts(const std::string& key) {
  std::map<std::string, VersionVector> contexts;
  for (const std::string& home : ring_.ForKey(key).home) {
    contexts[home] = Node(home)->DurableContext(key);
  }
  return contexts;
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

}  // namespace quorumkv::sim
