// A Transport that tells the failure detector how every call went: the
// latency of each answer, and each call that got none. ReplicaNode sends
// everything through it, so client traffic, pings and handoff all feed the
// detector.
#ifndef QUORUMKV_REPLICATION_HEALTH_TRACKING_TRANSPORT_H_
#define QUORUMKV_REPLICATION_HEALTH_TRACKING_TRANSPORT_H_

#include "replication/clock.h"
#include "replication/failure_detector.h"
#include "replication/transport.h"

namespace quorumkv {

// Thread-safe. Does not own its arguments.
class HealthTrackingTransport : public Transport {
 public:
  HealthTrackingTransport(Transport* base, FailureDetector* detector, Clock* clock)
      : base_(base), detector_(detector), clock_(clock) {}

  void Read(const std::string& to, const pb::ReplicaReadRequest& request, absl::Time deadline,
            Callback<pb::ReplicaReadResponse> done) override {
    base_->Read(to, request, deadline, Track(to, std::move(done)));
  }
  void Write(const std::string& to, const pb::ReplicaWriteRequest& request, absl::Time deadline,
             Callback<pb::ReplicaWriteResponse> done) override {
    base_->Write(to, request, deadline, Track(to, std::move(done)));
  }
  void CoordinatePut(const std::string& to, const pb::CoordinatePutRequest& request,
                     absl::Time deadline, Callback<pb::CoordinatePutResponse> done) override {
    base_->CoordinatePut(to, request, deadline, Track(to, std::move(done)));
  }
  void Ping(const std::string& to, const pb::PingRequest& request, absl::Time deadline,
            Callback<pb::PingResponse> done) override {
    base_->Ping(to, request, deadline, Track(to, std::move(done)));
  }
  // Not tracked: an exchange lists objects in bulk, so its latency says
  // nothing of how the peer serves requests (it would mark it slow).
  void Exchange(const std::string& to, const pb::ExchangeRequest& request, absl::Time deadline,
                Callback<pb::ExchangeResponse> done) override {
    base_->Exchange(to, request, deadline, std::move(done));
  }

 private:
  template <typename T>
  Callback<T> Track(const std::string& to, Callback<T> done) {
    const absl::Time start = clock_->Now();
    return [this, to, start, done = std::move(done)](absl::StatusOr<T> reply) {
      const absl::Time now = clock_->Now();
      const absl::Status& s = reply.status();
      // Any answer from the peer itself, even an error it returned, shows it
      // alive; only silence, a refusal or a cut call count against it.
      const bool no_answer = s.code() == absl::StatusCode::kDeadlineExceeded ||
                             s.code() == absl::StatusCode::kCancelled ||
                             s.code() == absl::StatusCode::kUnavailable;
      if (no_answer) {
        detector_->OnNoAnswer(to, s, now);
      } else {
        detector_->OnAnswer(to, now - start, now);
      }
      done(std::move(reply));
    };
  }

  Transport* const base_;
  FailureDetector* const detector_;
  Clock* const clock_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_REPLICATION_HEALTH_TRACKING_TRANSPORT_H_
