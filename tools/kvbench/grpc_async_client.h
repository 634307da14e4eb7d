// The common part of kvbench's gRPC clients (quorumkv, etcd): unary calls
// and timers on one completion queue, run by the thread that calls Run.
#ifndef QUORUMKV_TOOLS_KVBENCH_GRPC_ASYNC_CLIENT_H_
#define QUORUMKV_TOOLS_KVBENCH_GRPC_ASYNC_CLIENT_H_

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tools/kvbench/target.h"

namespace quorumkv::bench {

// A gRPC status as an absl::Status, its message prefixed with the target's
// name ("etcd: ...").
absl::Status StatusFromGrpc(const std::string& target, const grpc::Status& status);

// A channel to `address` as every gRPC target of kvbench gets it: gRPC's
// retry layer off (with no retry policy it would only replay a call that
// never left kvbench; such a call now counts as an error), which spares
// each call the layer's buffering.
std::shared_ptr<grpc::Channel> BenchChannel(
    const std::string& address,
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials());

class GrpcAsyncClient : public AsyncTargetClient {
 public:
  // Waits for nothing: Run has drained every call and timer.
  ~GrpcAsyncClient() override;

  void At(absl::Time when, std::function<void()> fn) override;
  void Run() override;

 protected:
  // Sends a unary call made by `prepare(context, queue)` (a generated
  // PrepareAsyncFoo, bound to its stub and request) with `timeout`; `done`
  // gets the status and the response when it ends.
  template <typename Response, typename Prepare>
  void Call(absl::Duration timeout, Prepare prepare,
            std::function<void(const grpc::Status&, Response&)> done) {
    auto* call = new UnaryCall<Response>(std::move(done));
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    call->reader = prepare(&call->context, &queue_);
    call->reader->StartCall();
    call->reader->Finish(&call->response, &call->status, call);
    ++pending_;
  }

 private:
  class Tag {
   public:
    virtual ~Tag() = default;
    virtual void Complete() = 0;
  };
  template <typename Response>
  struct UnaryCall final : Tag {
    explicit UnaryCall(std::function<void(const grpc::Status&, Response&)> done)
        : done(std::move(done)) {}
    void Complete() override { done(status, response); }
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
    Response response;
    grpc::Status status;
    std::function<void(const grpc::Status&, Response&)> done;
  };
  struct Timer final : Tag {
    explicit Timer(std::function<void()> fn) : fn(std::move(fn)) {}
    void Complete() override { fn(); }
    grpc::Alarm alarm;
    std::function<void()> fn;
  };

  grpc::CompletionQueue queue_;
  int pending_ = 0;  // calls and timers whose tag has not come back
};

}  // namespace quorumkv::bench

#endif  // QUORUMKV_TOOLS_KVBENCH_GRPC_ASYNC_CLIENT_H_
