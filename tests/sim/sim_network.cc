#include "tests/sim/sim_network.h"

#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/sim/sim_node.h"

namespace quorumkv::sim {
namespace {

// Runs a call's callback at most once, and only if the caller is still the
// incarnation that made the call.
template <typename Response>
struct PendingCall {
  SimNode* caller;
  uint64_t incarnation;
  Transport::Callback<Response> done;

  void Finish(absl::StatusOr<Response> result) {
    if (!done || caller->incarnation() != incarnation) {
      done = nullptr;
      return;
    }
    Transport::Callback<Response> run = std::move(done);
    done = nullptr;
    run(std::move(result));
  }
};

}  // namespace

void SimNetwork::Attach(SimNode* node) { nodes_[node->id()] = node; }

SimNode* SimNetwork::Find(const std::string& id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second;
}

void SimNetwork::Block(const std::string& from, const std::string& to) {
  blocked_.emplace(from, to);
}

void SimNetwork::HealAll() { blocked_.clear(); }

bool SimNetwork::Blocked(const std::string& from, const std::string& to) const {
  return blocked_.count({from, to}) > 0;
}

std::string SimNetwork::DescribeBlocks() const {
  std::vector<std::string> links;
  for (const auto& [from, to] : blocked_) links.push_back(absl::StrCat(from, "->", to));
  return links.empty() ? "none" : absl::StrJoin(links, " ");
}

absl::Duration SimNetwork::Delay(const std::string& from, const std::string& to) {
  if (from == to) return absl::Microseconds(10);
  return world_->UniformDuration(faults_.min_delay, faults_.max_delay);
}

bool SimNetwork::Lost(const std::string& from, const std::string& to) {
  if (from == to) return false;
  return Blocked(from, to) || world_->Chance(faults_.drop);
}

template <typename Response>
void SimNetwork::Call(
    const std::string& from, const std::string& to, absl::Time deadline, bool idempotent,
    std::function<void(SimNode&, std::function<void(absl::StatusOr<Response>)>)> handle,
    Transport::Callback<Response> done) {
  SimNode* caller = Find(from);
  auto pending = std::make_shared<PendingCall<Response>>(
      PendingCall<Response>{caller, caller->incarnation(), std::move(done)});
  world_->After(std::max(deadline - caller->clock()->Now(), absl::ZeroDuration()), [pending] {
    pending->Finish(absl::DeadlineExceededError("no answer before the deadline"));
  });
  SimNode* target = Find(to);
  if (target == nullptr || !target->up()) {
    // A dead process refuses connections at once.
    world_->After(Delay(from, to),
                  [pending] { pending->Finish(NotSentError("unreachable (connection refused)")); });
    return;
  }
  const uint64_t target_life = target->incarnation();
  const int copies = (idempotent && from != to && world_->Chance(faults_.duplicate)) ? 2 : 1;
  for (int copy = 0; copy < copies; ++copy) {
    if (Lost(from, to)) continue;
    world_->After(Delay(from, to), [this, pending, target, target_life, handle, from, to] {
      // A message to a former life of the target died with its connection.
      if (!target->up() || target->incarnation() != target_life) return;
      handle(*target, [this, pending, from, to](absl::StatusOr<Response> reply) {
        if (Lost(to, from)) return;
        world_->After(Delay(to, from), [pending, reply = std::move(reply)]() mutable {
          pending->Finish(std::move(reply));
        });
      });
    });
  }
}

pb::ReplicaReadBatchResponse SimTransport::ServeReads(SimNode& target,
                                                      const pb::ReplicaReadBatchRequest& request,
                                                      Recorder* recorder) {
  pb::ReplicaReadBatchResponse response = target.replica().HandleReadBatch(request);
  if (recorder == nullptr) return response;
  for (int i = 0; i < request.reads_size() && i < response.results_size(); ++i) {
    const pb::ReplicaReadResult& result = response.results(i);
    if (result.code() != 0 || result.not_run()) continue;
    const pb::ReplicaReadRequest& read = request.reads(i);
    ++recorder->read_answers_checked;
    if (result.response().found() || !target.HoldsVersion(read.key())) continue;
    recorder->read_answer_violations.push_back(absl::StrCat(
        target.id(), " answered not-found to ", request.from(), " for ", read.key(),
        read.hinted_for().empty() ? " as a home replica"
                                  : absl::StrCat(" standing in for ", read.hinted_for()),
        " while it held a version of it"));
  }
  return response;
}

void SimTransport::Restart() {
  reads_ = std::make_unique<ReadBatcher>(
      self_, clock_,
      [this](const std::string& to, pb::ReplicaReadBatchRequest request, absl::Time deadline,
             Callback<pb::ReplicaReadBatchResponse> done) {
        network_->Call<pb::ReplicaReadBatchResponse>(
            self_, to, deadline, /*idempotent=*/true,
            [request, recorder = network_->recorder()](SimNode& target, auto reply) {
              reply(ServeReads(target, request, recorder));
            },
            std::move(done));
      });
  writes_ = std::make_unique<WriteBatcher>(
      self_, clock_,
      [this](const std::string& to, pb::ReplicaWriteBatchRequest request, absl::Time deadline,
             Callback<pb::ReplicaWriteBatchResponse> done) {
        network_->Call<pb::ReplicaWriteBatchResponse>(
            self_, to, deadline, /*idempotent=*/true,
            [request](SimNode& target, auto reply) {
              // As kvnode serves it: hints on a blocking thread, replica
              // merges in the write groups.
              if (ReplicaNode::CarriesHints(request)) {
                return reply(target.replica().HandleWriteBatch(request));
              }
              target.replica().MergeWriteBatch(
                  request, [reply](pb::ReplicaWriteBatchResponse r) { reply(std::move(r)); });
            },
            std::move(done));
      });
}

template <typename Response>
Transport::Callback<Response> SimTransport::InOperation(Callback<Response> done,
                                                        Recorder::CallEnd end) {
  Recorder* recorder = network_->recorder();
  if (recorder == nullptr) return done;
  return [recorder, op = recorder->current_op, end = std::move(end),
          done = std::move(done)](absl::StatusOr<Response> reply) mutable {
    if (op >= 0) {
      end.ok = reply.ok();
      if constexpr (std::is_same_v<Response, pb::ReplicaReadResponse>) {
        end.found = reply.ok() && reply->found();
      }
      recorder->calls_of_op[op].push_back(std::move(end));
    }
    const int outer = recorder->current_op;
    recorder->current_op = op;
    done(std::move(reply));
    recorder->current_op = outer;
  };
}

void SimTransport::Read(const std::string& to, const pb::ReplicaReadRequest& request,
                        absl::Time deadline, Callback<pb::ReplicaReadResponse> done) {
  reads_->Call(
      to, request, deadline,
      InOperation(std::move(done),
                  Recorder::CallEnd{.kind = "read", .to = to, .hinted_for = request.hinted_for()}));
}

void SimTransport::Write(const std::string& to, const pb::ReplicaWriteRequest& request,
                         absl::Time deadline, Callback<pb::ReplicaWriteResponse> done) {
  writes_->Call(to, request, deadline,
                InOperation(std::move(done),
                            Recorder::CallEnd{
                                .kind = "write", .to = to, .hinted_for = request.hinted_for()}));
}

void SimTransport::CoordinatePut(const std::string& to, const pb::CoordinatePutRequest& request,
                                 absl::Time deadline, Callback<pb::CoordinatePutResponse> done) {
  // A forwarded put issues its dot at the home replica that coordinates it.
  // The simulated operation it belongs to travels with the message, and is
  // current again while the forwarder handles the answer (it may forward to
  // the next home replica), so the recorder can attribute the dot.
  Recorder* recorder = network_->recorder();
  const int op = recorder != nullptr ? recorder->current_op : -1;
  // The deadline travels as the time left (as gRPC's does), so each clock
  // reads it in its own terms.
  const absl::Duration left = deadline - clock_->Now();
  network_->Call<pb::CoordinatePutResponse>(
      self_, to, deadline, /*idempotent=*/false,
      [recorder, op, request, left, world = network_->world(), sent = network_->world()->now()](
          SimNode& target, auto reply) {
        const absl::Time target_deadline = target.clock()->Now() + left - (world->now() - sent);
        if (recorder != nullptr) recorder->current_op = op;
        target.replica().HandleCoordinatePut(
            request, target_deadline,
            [reply](pb::CoordinatePutResponse r) { reply(std::move(r)); });
        if (recorder != nullptr) recorder->current_op = -1;
      },
      [recorder, op, done = std::move(done)](absl::StatusOr<pb::CoordinatePutResponse> reply) {
        if (recorder != nullptr) recorder->current_op = op;
        done(std::move(reply));
        if (recorder != nullptr) recorder->current_op = -1;
      });
}

void SimTransport::Ping(const std::string& to, const pb::PingRequest& request, absl::Time deadline,
                        Callback<pb::PingResponse> done) {
  network_->Call<pb::PingResponse>(
      self_, to, deadline, /*idempotent=*/true,
      [request](SimNode& target, auto reply) { reply(target.replica().HandlePing(request)); },
      std::move(done));
}

void SimTransport::Exchange(const std::string& to, const pb::ExchangeRequest& request,
                            absl::Time deadline, Callback<pb::ExchangeResponse> done) {
  network_->Call<pb::ExchangeResponse>(
      self_, to, deadline, /*idempotent=*/true,
      [request](SimNode& target, auto reply) {
        if (target.mutation() == sim::Mutation::kBlindAntiEntropy ||
            (target.mutation() == sim::Mutation::kPurgeWithoutProof && target.id() == "n1")) {
          pb::ExchangeResponse agree;  // the mutation: "my tree is yours"
          agree.set_root(request.asker_root());
          return reply(agree);
        }
        reply(target.replica().HandleExchange(request));
      },
      std::move(done));
}

}  // namespace quorumkv::sim
