// Batches the replica calls a node sends to one peer: a call goes at once
// when none to that peer is in flight (kMaxBatchesInFlight); calls issued
// while one is wait and leave together, in one batch call, as soon as it
// returns. No call waits on a timer: at low load every call goes alone, and
// under load one call carries many, which is where a call's fixed cost
// (system calls, wakeups, HTTP/2 framing, and for writes the receiver's
// fsync) went. A peer that hangs holds back the calls queued for it until
// the one in flight times out; by then the failure detector suspects it and
// new calls go elsewhere.
//
// A batch call's deadline is its earliest item's, so every item is answered
// by its own deadline. An item whose deadline passed while it waited is
// failed (DEADLINE_EXCEEDED, not sent) instead of sending a call that
// could only time out with everything in it. Items with much shorter
// deadlines than the rest (clients that give a put a few milliseconds)
// still shorten their batch's call: the cost of one call per batch.
//
// Reads travel in ReadBatch calls (ReadCalls), writes in WriteBatch calls
// (WriteCalls), whose receiver makes every write durable with one fsync.
#ifndef QUORUMKV_REPLICATION_CALL_BATCHER_H_
#define QUORUMKV_REPLICATION_CALL_BATCHER_H_

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "replication/clock.h"
#include "replication/invariant.h"
#include "replication/transport.h"

namespace quorumkv {

// What CallBatcher needs to know of a kind of call.
struct ReadCalls {
  using Item = pb::ReplicaReadRequest;
  using Reply = pb::ReplicaReadResponse;
  using BatchRequest = pb::ReplicaReadBatchRequest;
  using BatchReply = pb::ReplicaReadBatchResponse;
  static Item* Add(BatchRequest* batch) { return batch->add_reads(); }
  static int Results(const BatchReply& reply) { return reply.results_size(); }
  // Item i's result, or nullopt if the peer did not run it (its reply was
  // full): it is to be sent again.
  static std::optional<absl::StatusOr<Reply>> Take(BatchReply* reply, int i);
};

struct WriteCalls {
  using Item = pb::ReplicaWriteRequest;
  using Reply = pb::ReplicaWriteResponse;
  using BatchRequest = pb::ReplicaWriteBatchRequest;
  using BatchReply = pb::ReplicaWriteBatchResponse;
  static Item* Add(BatchRequest* batch) { return batch->add_writes(); }
  static int Results(const BatchReply& reply) { return reply.results_size(); }
  static std::optional<absl::StatusOr<Reply>> Take(BatchReply* reply, int i);
};

// Thread-safe. Each call's callback runs exactly once, outside the lock.
template <typename Kind>
class CallBatcher {
 public:
  using Item = typename Kind::Item;
  using Reply = typename Kind::Reply;
  using BatchRequest = typename Kind::BatchRequest;
  using BatchReply = typename Kind::BatchReply;

  // Per peer. 1 measured best for reads (kvbench C, 3 nodes, 2 cores): 183
  // us of server CPU per get against 207 without batching, and a lower
  // p99. The calls waiting are bounded by the node's client requests in
  // flight (kMaxClientRequestsInFlight), each with at most N - 1 of them.
  static constexpr size_t kMaxBatchesInFlight = 1;
  static constexpr size_t kMaxBatch = 64;  // calls per batch
  // Bytes of requests per batch; a larger request goes alone.
  static constexpr uint64_t kMaxBatchBytes = 1 << 20;

  using SendBatch = std::function<void(const std::string& to, BatchRequest request,
                                       absl::Time deadline, Transport::Callback<BatchReply> done)>;

  // `clock` (not owned) tells when a waiting item's deadline has passed.
  CallBatcher(std::string self, Clock* clock, SendBatch send)
      : self_(std::move(self)), clock_(clock), send_(std::move(send)) {}

  void Call(const std::string& to, const Item& request, absl::Time deadline,
            Transport::Callback<Reply> done) {
    std::vector<Pending> now;
    {
      absl::MutexLock lock(&mu_);
      PeerQueue& peer = peers_[to];
      Pending pending{request, request.ByteSizeLong(), deadline, std::move(done)};
      if (peer.in_flight >= kMaxBatchesInFlight) {
        peer.waiting.push_back(std::move(pending));
        return;
      }
      ++peer.in_flight;
      now.push_back(std::move(pending));
    }
    Send(to, std::move(now));
  }

 private:
  struct Pending {
    Item request;
    uint64_t bytes = 0;
    absl::Time deadline;
    Transport::Callback<Reply> done;
  };
  struct PeerQueue {
    size_t in_flight = 0;
    std::deque<Pending> waiting;
  };

  // Sends `batch` (taken off the queue, counted in flight) to `to`.
  void Send(const std::string& to, std::vector<Pending> batch) {
    BatchRequest request;
    request.set_from(self_);
    // The call's deadline is its earliest item's: every call is answered by
    // its own deadline (some a little before it).
    absl::Time deadline = absl::InfiniteFuture();
    for (const Pending& p : batch) {
      *Kind::Add(&request) = p.request;
      deadline = std::min(deadline, p.deadline);
    }
    auto shared = std::make_shared<std::vector<Pending>>(std::move(batch));
    send_(to, std::move(request), deadline, [this, to, shared](absl::StatusOr<BatchReply> result) {
      // A batch holds at least one call, and is taken out on its answer.
      std::vector<Pending> batch = std::exchange(*shared, {});
      if (!QKV_INVARIANT_STATUS(!batch.empty(), "a batch call answered twice").ok()) return;
      OnBatchDone(to, std::move(batch), std::move(result));
    });
  }

  void OnBatchDone(const std::string& to, std::vector<Pending> batch,
                   absl::StatusOr<BatchReply> result) {
    std::vector<std::optional<absl::StatusOr<Reply>>> outcomes;
    for (size_t i = 0; i < batch.size(); ++i) outcomes.push_back(OutcomeOf(&result, i, batch));
    std::vector<Pending> next, expired;
    {
      absl::MutexLock lock(&mu_);
      PeerQueue& peer = peers_[to];
      // Calls the peer did not run go first in the next batch, in order.
      for (size_t i = batch.size(); i-- > 0;) {
        if (!outcomes[i]) peer.waiting.push_front(std::move(batch[i]));
      }
      expired = TakeExpired(&peer.waiting, clock_->Now());
      if (peer.waiting.empty()) {
        --peer.in_flight;
      } else {
        next = TakeBatch(&peer.waiting);
      }
    }
    if (!next.empty()) Send(to, std::move(next));
    for (size_t i = 0; i < batch.size(); ++i) {
      if (outcomes[i]) batch[i].done(std::move(*outcomes[i]));
    }
    for (Pending& p : expired) {
      p.done(absl::DeadlineExceededError(
          "deadline passed while the call waited for the one before it; not sent"));
    }
  }

  // Removes and returns the waiting calls whose deadline is past `now`.
  static std::vector<Pending> TakeExpired(std::deque<Pending>* waiting, absl::Time now) {
    std::vector<Pending> expired;
    auto passed = [now](const Pending& p) { return p.deadline <= now; };
    if (std::none_of(waiting->begin(), waiting->end(), passed)) return expired;
    std::deque<Pending> live;
    for (Pending& p : *waiting) {
      if (passed(p)) {
        expired.push_back(std::move(p));
      } else {
        live.push_back(std::move(p));
      }
    }
    *waiting = std::move(live);
    return expired;
  }

  static std::optional<absl::StatusOr<Reply>> OutcomeOf(absl::StatusOr<BatchReply>* result,
                                                        size_t i,
                                                        const std::vector<Pending>& batch) {
    if (!result->ok()) return absl::StatusOr<Reply>(result->status());
    if (static_cast<int>(i) >= Kind::Results(**result)) {
      return absl::StatusOr<Reply>(absl::InternalError(absl::StrCat(
          "a batch of ", batch.size(), " calls got ", Kind::Results(**result), " answers")));
    }
    std::optional<absl::StatusOr<Reply>> taken = Kind::Take(&**result, static_cast<int>(i));
    // A peer runs at least the first call of a batch; were it not to, the
    // batch would come back forever.
    if (!taken && i == 0) {
      return absl::StatusOr<Reply>(absl::InternalError("the peer ran no call of a batch"));
    }
    return taken;
  }

  // The next batch off `waiting`: up to kMaxBatch calls and kMaxBatchBytes
  // (at least one call).
  static std::vector<Pending> TakeBatch(std::deque<Pending>* waiting) {
    std::vector<Pending> batch;
    uint64_t bytes = 0;
    while (!waiting->empty() && batch.size() < kMaxBatch) {
      const uint64_t next = waiting->front().bytes;
      if (!batch.empty() && bytes + next > kMaxBatchBytes) break;
      bytes += next;
      batch.push_back(std::move(waiting->front()));
      waiting->pop_front();
    }
    return batch;
  }

  const std::string self_;
  Clock* const clock_;
  const SendBatch send_;
  absl::Mutex mu_;
  std::map<std::string, PeerQueue> peers_ ABSL_GUARDED_BY(mu_);
};

using ReadBatcher = CallBatcher<ReadCalls>;
using WriteBatcher = CallBatcher<WriteCalls>;

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_CALL_BATCHER_H_
