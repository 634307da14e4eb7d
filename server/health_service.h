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

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/health.grpc.pb.h"

namespace quorumkv {

// Thread-safe. A synchronous service: health calls are rare (probes while a
// node starts, a watcher or two), and an idle synchronous service, unlike a
// callback one, costs the completion queues' calls nothing
// (completion_queue.h). Each Watch holds one of gRPC's threads.
class HealthServiceImpl final : public grpc::health::v1::Health::Service {
 public:
  using Status = grpc::health::v1::HealthCheckResponse::ServingStatus;

  // Tells every Watch of the change.
  void SetServing(bool serving);
  // Ends every Watch (OK), and those started later at once. For shutdown:
  // the server waits for the calls in flight.
  void EndWatches();

  grpc::Status Check(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;

 private:
  // How often a Watch with nothing to write looks whether its client left
  // (a synchronous handler is not woken by a cancellation).
  static constexpr absl::Duration kCancelPoll = absl::Milliseconds(100);

  static bool Known(const std::string& service);

  absl::Mutex mu_;
  Status status_ ABSL_GUARDED_BY(mu_) = grpc::health::v1::HealthCheckResponse::NOT_SERVING;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_HEALTH_SERVICE_H_
