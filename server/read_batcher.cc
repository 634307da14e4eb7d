#include "server/read_batcher.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"

namespace quorumkv {

void ReadBatcher::Read(const std::string& to, const pb::ReplicaReadRequest& request,
                       absl::Time deadline, Transport::Callback<pb::ReplicaReadResponse> done) {
  std::vector<Pending> now;
  {
    absl::MutexLock lock(&mu_);
    PeerQueue& peer = peers_[to];
    Pending pending{request, deadline, std::move(done)};
    if (peer.in_flight >= kMaxBatchesInFlight) {
      peer.waiting.push_back(std::move(pending));
      return;
    }
    ++peer.in_flight;
    now.push_back(std::move(pending));
  }
  Send(to, std::move(now));
}

void ReadBatcher::Send(const std::string& to, std::vector<Pending> batch) {
  pb::ReplicaReadBatchRequest request;
  request.set_from(self_);
  // The call's deadline is its earliest read's: every read is answered by
  // its own deadline (some a little before it).
  absl::Time deadline = absl::InfiniteFuture();
  for (const Pending& p : batch) {
    *request.add_reads() = p.request;
    deadline = std::min(deadline, p.deadline);
  }
  auto shared = std::make_shared<std::vector<Pending>>(std::move(batch));
  send_(to, std::move(request), deadline,
        [this, to, shared](absl::StatusOr<pb::ReplicaReadBatchResponse> result) {
          OnBatchDone(to, std::move(*shared), std::move(result));
        });
}

void ReadBatcher::OnBatchDone(const std::string& to, std::vector<Pending> batch,
                              absl::StatusOr<pb::ReplicaReadBatchResponse> result) {
  std::vector<Pending> next;
  {
    absl::MutexLock lock(&mu_);
    PeerQueue& peer = peers_[to];
    if (peer.waiting.empty()) {
      --peer.in_flight;
    } else {
      const size_t n = std::min(kMaxBatch, peer.waiting.size());
      for (size_t i = 0; i < n; ++i) {
        next.push_back(std::move(peer.waiting.front()));
        peer.waiting.pop_front();
      }
    }
  }
  if (!next.empty()) Send(to, std::move(next));
  for (size_t i = 0; i < batch.size(); ++i) {
    Transport::Callback<pb::ReplicaReadResponse> done = std::move(batch[i].done);
    if (!result.ok()) {
      done(result.status());
    } else if (static_cast<int>(i) >= result->results_size()) {
      done(absl::InternalError(absl::StrCat("a read batch of ", batch.size(), " got ",
                                            result->results_size(), " answers")));
    } else {
      pb::ReplicaReadResult& r = *result->mutable_results(static_cast<int>(i));
      if (r.code() == 0) {
        done(std::move(*r.mutable_response()));
      } else {
        done(absl::Status(static_cast<absl::StatusCode>(r.code()), r.message()));
      }
    }
  }
}

}  // namespace quorumkv
