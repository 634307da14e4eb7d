// KvClient's hedged reads (kv_client.h, hedge_policy.h): a read to a
// second node when the first is slow, on a completion queue of the call's
// own.
#include "client/kv_client_internal.h"

namespace quorumkv {

std::optional<absl::StatusOr<v1::GetResponse>> KvClient::HedgedGet(const v1::GetRequest& request,
                                                                   const std::vector<size_t>& order,
                                                                   absl::Time deadline,
                                                                   absl::Duration delay,
                                                                   std::vector<size_t>* tried) {
  if (!nodes_[order[0]]->breaker.Allow()) return std::nullopt;
  // Both calls on a completion queue of this call's own: the caller's
  // thread waits on it, and nothing is left running when it returns.
  struct Leg {
    size_t endpoint = 0;
    grpc::ClientContext context;
    v1::GetResponse response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::GetResponse>> reader;
    bool done = false;
  };
  Leg legs[2];
  int launched = 0;
  grpc::CompletionQueue queue;
  const absl::Time start = absl::Now();
  auto launch = [&](size_t endpoint) {
    Leg& leg = legs[launched];
    leg.endpoint = endpoint;
    leg.context.set_deadline(absl::ToChronoTime(deadline));
    leg.reader = nodes_[endpoint]->stub->PrepareAsyncGet(&leg.context, request, &queue);
    leg.reader->StartCall();
    leg.reader->Finish(&leg.response, &leg.status,
                       reinterpret_cast<void*>(static_cast<intptr_t>(launched)));
    ++launched;
    tried->push_back(endpoint);
  };
  // Waits for one call to end, until `until`; false when none did.
  auto next_until = [&](absl::Time until) {
    void* tag;
    bool ok;
    if (queue.AsyncNext(&tag, &ok, absl::ToChronoTime(until)) != grpc::CompletionQueue::GOT_EVENT) {
      return false;
    }
    legs[reinterpret_cast<intptr_t>(tag)].done = true;
    return true;
  };
  auto decided = [&] {
    bool all_done = true;
    for (int i = 0; i < launched; ++i) {
      if (legs[i].done && legs[i].status.ok()) return true;
      all_done &= legs[i].done;
    }
    return all_done;
  };
  launch(order[0]);
  const absl::Time hedge_at = std::min(deadline, start + delay);
  while (!legs[0].done && next_until(hedge_at)) {
  }
  if (!legs[0].done && absl::Now() < deadline && hedge_.TakeHedge()) {
    for (size_t i = 1; i < order.size(); ++i) {
      if (!nodes_[order[i]]->breaker.Allow()) continue;
      launch(order[i]);
      break;
    }
  }
  while (!decided() && next_until(deadline)) {
  }
  std::optional<absl::StatusOr<v1::GetResponse>> result;
  int pending = 0;
  for (int i = 0; i < launched; ++i) {
    Leg& leg = legs[i];
    Node& node = *nodes_[leg.endpoint];
    if (!leg.done) {
      leg.context.TryCancel();  // the loser, or out of time
      node.breaker.RecordNothing();
      ++pending;
      continue;
    }
    if (NodeFailed(leg.status, deadline)) {
      node.breaker.RecordFailure();
    } else {
      node.breaker.RecordSuccess();
    }
    if (leg.status.ok() && !(result && result->ok())) {
      hedge_.RecordLatency(absl::Now() - start);
      result = std::move(leg.response);
    } else if (!leg.status.ok() && !result && !IsUnreachable(leg.status) &&
               !ShedAtAdmission(leg.status)) {
      result = WithQuorum(leg.status);  // an answer (quorum not met, ...), not a node failure
    }
  }
  if (!result && absl::Now() >= deadline) {
    result = absl::DeadlineExceededError(
        "deadline exceeded, outcome unknown: no node answered the read in time");
  }
  // A cancelled call still ends on the queue (at once); the queue must be
  // drained before it goes.
  while (pending > 0 && next_until(absl::InfiniteFuture())) --pending;
  queue.Shutdown();
  void* tag;
  bool ok;
  while (queue.Next(&tag, &ok)) {
  }
  return result;
}

}  // namespace quorumkv
