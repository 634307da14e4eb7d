#include "server/health_service.h"

#include <vector>

#include "proto/admin.grpc.pb.h"
#include "proto/kv.grpc.pb.h"
#include "proto/replica.grpc.pb.h"

namespace quorumkv {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One Watch call: writes the status, then each change (only the latest, if
// several came during a write). Deleted once gRPC is done with it and no
// one holds it (HealthServiceImpl holds it while it tells it something).
class HealthWatch final : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  HealthWatch(HealthServiceImpl* service, bool known) : service_(service), known_(known) {}

  bool known() const { return known_; }

  // The status when the call started, unless an Update came first.
  void Begin(HealthServiceImpl::Status status) { Set(status, /*only_if_unset=*/true); }
  void Update(HealthServiceImpl::Status status) { Set(status, /*only_if_unset=*/false); }

  // Finishes the call (OK) once the write in flight, if any, is done.
  void End() {
    {
      absl::MutexLock lock(&mu_);
      if (ending_) return;
      ending_ = true;
      if (writing_) return;  // OnWriteDone finishes
    }
    Finish(grpc::Status::OK);
  }

  void Hold() {
    absl::MutexLock lock(&mu_);
    ++holds_;
  }
  void Release() {
    bool last = false;
    {
      absl::MutexLock lock(&mu_);
      last = --holds_ == 0 && done_;
    }
    if (last) delete this;
  }

  void OnWriteDone(bool ok) override {
    bool write = false;
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (ending_) {
        finish = true;
      } else if (ok && out_.status() != latest_) {
        writing_ = write = true;
        out_.set_status(latest_);
      }
    }
    if (write) StartWrite(&out_);
    if (finish) Finish(grpc::Status::OK);
    // A failed write: the call is cancelled, and OnCancel ends it.
  }

  void OnCancel() override { End(); }

  void OnDone() override {
    service_->Forget(this);
    bool last = false;
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      last = holds_ == 0;
    }
    if (last) delete this;
  }

 private:
  void Set(HealthServiceImpl::Status status, bool only_if_unset) {
    {
      absl::MutexLock lock(&mu_);
      if (only_if_unset && latest_ != HealthCheckResponse::UNKNOWN) return;
      latest_ = status;
      if (writing_ || ending_) return;  // OnWriteDone sends the latest
      writing_ = true;
      out_.set_status(status);
    }
    StartWrite(&out_);
  }

  HealthServiceImpl* const service_;
  const bool known_;
  absl::Mutex mu_;
  HealthServiceImpl::Status latest_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
  HealthCheckResponse out_;  // the write in flight (writing_)
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  int holds_ ABSL_GUARDED_BY(mu_) = 0;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

bool HealthServiceImpl::Known(const std::string& service) {
  return service.empty() || service == v1::KvService::service_full_name() ||
         service == v1::ReplicaService::service_full_name() ||
         service == v1::AdminService::service_full_name();
}

std::vector<HealthWatch*> HealthServiceImpl::HoldWatches(bool known_only) {
  std::vector<HealthWatch*> held;
  for (HealthWatch* watch : watches_) {
    if (known_only && !watch->known()) continue;
    watch->Hold();
    held.push_back(watch);
  }
  return held;
}

void HealthServiceImpl::SetServing(bool serving) {
  const Status status = serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
  std::vector<HealthWatch*> watches;
  {
    absl::MutexLock lock(&mu_);
    status_ = status;
    watches = HoldWatches(/*known_only=*/true);
  }
  for (HealthWatch* watch : watches) {
    watch->Update(status);
    watch->Release();
  }
}

void HealthServiceImpl::EndWatches() {
  std::vector<HealthWatch*> watches;
  {
    absl::MutexLock lock(&mu_);
    ended_ = true;
    watches = HoldWatches(/*known_only=*/false);
  }
  for (HealthWatch* watch : watches) {
    watch->End();
    watch->Release();
  }
}

void HealthServiceImpl::Forget(HealthWatch* watch) {
  absl::MutexLock lock(&mu_);
  watches_.erase(watch);
}

grpc::ServerUnaryReactor* HealthServiceImpl::Check(grpc::CallbackServerContext* ctx,
                                                   const HealthCheckRequest* request,
                                                   HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (!Known(request->service())) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service " + request->service()));
    return reactor;
  }
  {
    absl::MutexLock lock(&mu_);
    response->set_status(status_);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthServiceImpl::Watch(
    grpc::CallbackServerContext*, const HealthCheckRequest* request) {
  const bool known = Known(request->service());
  auto* watch = new HealthWatch(this, known);
  Status status = HealthCheckResponse::SERVICE_UNKNOWN;
  bool ended = false;
  {
    absl::MutexLock lock(&mu_);
    ended = ended_;
    if (!ended) watches_.insert(watch);
    if (known) status = status_;
  }
  if (ended) {
    watch->End();
  } else {
    watch->Begin(status);
  }
  return watch;
}

}  // namespace quorumkv
