// kvnode's grpc.health.v1.Health service. It reports NOT_SERVING from the
// moment the port opens until storage is open, SERVING from then until
// shutdown begins. (gRPC's default health service answers SERVING as soon
// as the server starts, before a node could lower it: a window in which a
// client saw a node ready whose storage was not open.) The overall status
// ("") and every quorumkv service share one status; other names are
// unknown (NOT_FOUND for Check, SERVICE_UNKNOWN for Watch).
#ifndef QUORUMKV_SERVER_HEALTH_SERVICE_H_
#define QUORUMKV_SERVER_HEALTH_SERVICE_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "proto/health.grpc.pb.h"

namespace quorumkv {

class HealthWatch;

// Thread-safe.
class HealthServiceImpl final : public grpc::health::v1::Health::CallbackService {
 public:
  using Status = grpc::health::v1::HealthCheckResponse::ServingStatus;

  // Tells every Watch of the change.
  void SetServing(bool serving);
  // Ends every Watch (OK), and those started later at once. For shutdown:
  // the server waits for the calls in flight.
  void EndWatches();

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::health::v1::HealthCheckResponse* response) override;
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* ctx,
      const grpc::health::v1::HealthCheckRequest* request) override;

  // For HealthWatch.
  void Forget(HealthWatch* watch);

 private:
  static bool Known(const std::string& service);
  // Holds the watches (those of known services if `known_only`), so that
  // they can be told something outside mu_; each is to be Released.
  std::vector<HealthWatch*> HoldWatches(bool known_only) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  Status status_ ABSL_GUARDED_BY(mu_) = grpc::health::v1::HealthCheckResponse::NOT_SERVING;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<HealthWatch*> watches_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_HEALTH_SERVICE_H_
