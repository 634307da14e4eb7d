// kvnode's completion queues. Every call of kvnode's own services, and
// every call it sends to its peers, runs on a completion queue whose one
// thread polls the sockets and runs what completes: a call travels from the
// socket to the store and back without a hand-off between threads. (gRPC's
// callback API hands each completion from its poller to another thread of
// its own, and once any callback method is registered those threads poll
// the same sockets; docs/performance.md has the measurements.) Work that
// blocks (fsync) goes to the writer thread and the replica pool.
#ifndef QUORUMKV_SERVER_COMPLETION_QUEUE_H_
#define QUORUMKV_SERVER_COMPLETION_QUEUE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace quorumkv {

// What a completion queue tag points to: Run is called once per completion
// by the queue's thread, with gRPC's `ok`.
class CqTag {
 public:
  virtual ~CqTag() = default;
  virtual void Run(bool ok) = 0;
};

// Runs the tags of `cq` until it is shut down and drained.
void RunCompletionQueue(grpc::CompletionQueue* cq);

// Every tag goes to gRPC through QueueTag: what the calling thread wrote
// before is visible to the queue's thread when it runs the tag. gRPC orders
// this with its own atomics, which ThreadSanitizer does not see in an
// uninstrumented libgrpc; under TSan, QueueTag and RunCompletionQueue say it
// (a release here, the matching acquire when the queue hands the tag back).
// Elsewhere QueueTag is the identity.
void* QueueTag(CqTag* tag);

// For an object handed to gRPC by a thread other than the queue's: gRPC may
// run its tag on the queue's thread before the handing call returns, so the
// object is deleted by the last of the two to let go of it: the handing
// thread once gRPC's call returned, the queue's thread once the tag ran.
// (Deleting it in the tag alone would race with the end of that call.)
class TwoHolders {
 public:
  // True for the last of the two: it deletes the object.
  bool LetGo() { return holders_.fetch_sub(1, std::memory_order_acq_rel) == 1; }

 private:
  std::atomic<int> holders_{2};
};

template <typename Request, typename Response>
class UnaryCall;

// One unary method served on one completion queue: how to ask gRPC for its
// next call, and what to do with it. Owned by the service; outlives every
// call of it (the queue is drained before the service is destroyed).
template <typename Request, typename Response>
struct UnaryMethod {
  using Writer = grpc::ServerAsyncResponseWriter<Response>;
  // The generated AsyncService::RequestFoo, bound to the service.
  std::function<void(grpc::ServerContext*, Request*, Writer*, grpc::CompletionQueue*,
                     grpc::ServerCompletionQueue*, void* tag)>
      request;
  // Handles a call: answers it (UnaryCall::Finish) exactly once, from any
  // thread.
  std::function<void(UnaryCall<Request, Response>*)> handle;
  // Whether the caller may call the method (caller_policy.h); a call it
  // refuses is answered with its status and never reaches `handle`.
  std::function<grpc::Status(const grpc::ServerContext&)> authorize;
  // If set, told of every answer as it goes out, with the time since the
  // call arrived (the node's metrics).
  std::function<void(const grpc::Status&, const Response&, absl::Duration)> finished;
  grpc::ServerCompletionQueue* queue = nullptr;
};

// One call of a unary method. Listen asks gRPC for the method's next call;
// when one arrives, the next one is listened for and the method's handler
// runs with this one. The call deletes itself once its answer is sent, or
// when the server shuts down before a call arrived.
template <typename Request, typename Response>
class UnaryCall final : public CqTag {
 public:
  static void Listen(const UnaryMethod<Request, Response>* method) {
    auto* call = new UnaryCall(method);
    method->request(&call->context_, &call->request_, &call->writer_, method->queue, method->queue,
                    QueueTag(call));
  }

  grpc::ServerContext* context() { return &context_; }
  const Request& request() const { return request_; }
  Response* response() { return &response_; }

  // Sends response() if `status` is OK, only the status otherwise. Once
  // it returns, and the answer went out, the call deletes itself.
  void Finish(const grpc::Status& status) {
    finishing_ = true;
    if (method_->finished) method_->finished(status, response_, absl::Now() - arrived_);
    if (status.ok()) {
      writer_.Finish(response_, status, QueueTag(this));
    } else {
      writer_.FinishWithError(status, QueueTag(this));
    }
    if (holders_.LetGo()) delete this;
  }

  void Run(bool ok) override {
    if (finishing_) {  // the answer went out (or the call ended)
      if (holders_.LetGo()) delete this;
      return;
    }
    if (!ok) {  // the server is shutting down before a call came
      delete this;
      return;
    }
    Listen(method_);
    if (method_->finished) arrived_ = absl::Now();
    if (method_->authorize) {
      if (grpc::Status allowed = method_->authorize(context_); !allowed.ok()) {
        Finish(allowed);
        return;
      }
    }
    method_->handle(this);
  }

 private:
  explicit UnaryCall(const UnaryMethod<Request, Response>* method)
      : method_(method), writer_(&context_) {}

  const UnaryMethod<Request, Response>* const method_;
  grpc::ServerContext context_;
  Request request_;
  Response response_;
  grpc::ServerAsyncResponseWriter<Response> writer_;
  bool finishing_ = false;
  absl::Time arrived_;
  TwoHolders holders_;  // after Finish: its caller and the queue's thread
};

// The methods a service serves on completion queues, kept alive with it.
class UnaryMethods {
 public:
  using Authorizer = std::function<grpc::Status(const grpc::ServerContext&)>;

  // Every method served after this admits only the callers `authorize`
  // allows. Before the first Serve.
  void AuthorizeWith(Authorizer authorize) { authorize_ = std::move(authorize); }

  // Serves a method on `queue`: `request` is the generated
  // AsyncService::RequestFoo and `handle` the handler, both members of
  // `service`. Before the queue's thread starts.
  // `finished`, if set, is told of each answer (UnaryMethod::finished).
  template <typename Service, typename Base, typename Request, typename Response, typename Handler>
  void Serve(grpc::ServerCompletionQueue* queue, Service* service,
             void (Base::*request)(grpc::ServerContext*, Request*,
                                   grpc::ServerAsyncResponseWriter<Response>*,
                                   grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*),
             void (Handler::*handle)(UnaryCall<Request, Response>*),
             std::type_identity_t<
                 std::function<void(const grpc::Status&, const Response&, absl::Duration)>>
                 finished = nullptr) {
    auto method = std::make_shared<UnaryMethod<Request, Response>>();
    method->request = [service, request](auto&&... args) {
      (service->*request)(std::forward<decltype(args)>(args)...);
    };
    method->handle = [service, handle](UnaryCall<Request, Response>* call) {
      (service->*handle)(call);
    };
    method->authorize = authorize_;
    method->finished = std::move(finished);
    method->queue = queue;
    UnaryCall<Request, Response>::Listen(method.get());
    methods_.push_back(std::move(method));
  }

 private:
  Authorizer authorize_;
  std::vector<std::shared_ptr<const void>> methods_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_COMPLETION_QUEUE_H_
