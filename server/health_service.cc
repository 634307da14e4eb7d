#include "server/health_service.h"

#include "proto/admin.grpc.pb.h"
#include "proto/kv.grpc.pb.h"
#include "proto/replica.grpc.pb.h"

namespace quorumkv {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

bool HealthServiceImpl::Known(const std::string& service) {
  return service.empty() || service == v1::KvService::service_full_name() ||
         service == v1::ReplicaService::service_full_name() ||
         service == v1::AdminService::service_full_name();
}

void HealthServiceImpl::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  status_ = serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
}

void HealthServiceImpl::EndWatches() {
  absl::MutexLock lock(&mu_);
  ended_ = true;
}

grpc::Status HealthServiceImpl::Check(grpc::ServerContext*, const HealthCheckRequest* request,
                                      HealthCheckResponse* response) {
  if (!Known(request->service())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service " + request->service());
  }
  absl::MutexLock lock(&mu_);
  response->set_status(status_);
  return grpc::Status::OK;
}

grpc::Status HealthServiceImpl::Watch(grpc::ServerContext* ctx, const HealthCheckRequest* request,
                                      grpc::ServerWriter<HealthCheckResponse>* writer) {
  const bool known = Known(request->service());
  HealthCheckResponse sent;
  sent.set_status(HealthCheckResponse::UNKNOWN);  // nothing sent yet
  for (;;) {
    HealthCheckResponse next;
    {
      absl::MutexLock lock(&mu_);
      auto news = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        const Status now = known ? status_ : HealthCheckResponse::SERVICE_UNKNOWN;
        return ended_ || now != sent.status();
      };
      mu_.AwaitWithTimeout(absl::Condition(&news), kCancelPoll);
      if (ended_) return grpc::Status::OK;
      next.set_status(known ? status_ : HealthCheckResponse::SERVICE_UNKNOWN);
    }
    if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled");
    if (next.status() == sent.status()) continue;
    if (!writer->Write(next)) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "watcher went away");
    }
    sent = next;
  }
}

}  // namespace quorumkv
