// An in-process Transport for ReplicaNode tests. Every call is queued and
// delivered only when the test says so, to the target ReplicaNode's Handle*
// methods, on the test's thread: the test controls the order of messages,
// can hold or lose some, and can make a node down (calls to it fail with
// UNAVAILABLE), hung (calls to it fail with DEADLINE_EXCEEDED) or overloaded
// (it sheds calls with RESOURCE_EXHAUSTED before handling them).
#ifndef QUORUMKV_TESTS_UNIT_REPLICATION_FAKE_NETWORK_H_
#define QUORUMKV_TESTS_UNIT_REPLICATION_FAKE_NETWORK_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "replication/replica_node.h"
#include "replication/transport.h"

namespace quorumkv::test_support {

class FakeNetwork {
 public:
  enum class Health { kUp, kDown, kHung, kOverloaded };

  // A call in flight. `deliver` runs the target's handler and the caller's
  // callback; `fail` runs only the callback, with an error.
  struct Call {
    std::string kind;  // "read", "write", "coordinate_put" or "ping"
    std::string from;
    std::string to;
    absl::Time deadline;  // the caller's; the test network does not enforce it
    std::function<void()> deliver;
    std::function<void(absl::Status)> fail;
  };
  using Filter = std::function<bool(const Call&)>;

  void Register(const std::string& id, ReplicaNode* node) { nodes_[id] = node; }
  // The transport that node `from` sends through.
  Transport* TransportFor(const std::string& from) {
    auto& t = transports_[from];
    if (!t) t = std::make_unique<NodeTransport>(this, from);
    return t.get();
  }
  void SetHealth(const std::string& node, Health health) { health_[node] = health; }

  // Delivers queued calls matching `filter` (and the calls their delivery
  // makes that match it) until none is left; returns how many ran.
  int Deliver(const Filter& filter) {
    int delivered = 0;
    while (std::optional<Call> call = Take(filter)) {
      Run(*call);
      ++delivered;
    }
    return delivered;
  }
  int DeliverAll() {
    return Deliver([](const Call&) { return true; });
  }
  // Loses the queued calls matching `filter`: their callers see a timeout.
  int Drop(const Filter& filter) {
    int dropped = 0;
    while (std::optional<Call> call = Take(filter)) {
      call->fail(absl::DeadlineExceededError("dropped by the test network"));
      ++dropped;
    }
    return dropped;
  }
  // The calls queued now that match `filter`, in order (copies).
  std::vector<Call> Queued(const Filter& filter) {
    absl::MutexLock lock(&mu_);
    std::vector<Call> calls;
    for (const Call& c : queue_) {
      if (filter(c)) calls.push_back(c);
    }
    return calls;
  }
  size_t pending() {
    absl::MutexLock lock(&mu_);
    return queue_.size();
  }

  static Filter To(const std::string& node) {
    return [node](const Call& c) { return c.to == node; };
  }
  static Filter From(const std::string& node) {
    return [node](const Call& c) { return c.from == node; };
  }

 private:
  class NodeTransport : public Transport {
   public:
    NodeTransport(FakeNetwork* net, std::string from) : net_(net), from_(std::move(from)) {}

    void Read(const std::string& to, const pb::ReplicaReadRequest& request, absl::Time deadline,
              Callback<pb::ReplicaReadResponse> done) override {
      net_->Enqueue("read", from_, to, std::move(done), deadline,
                    [request](ReplicaNode* n, Callback<pb::ReplicaReadResponse> cb) {
                      cb(n->HandleRead(request));
                    });
    }
    void Write(const std::string& to, const pb::ReplicaWriteRequest& request, absl::Time deadline,
               Callback<pb::ReplicaWriteResponse> done) override {
      net_->Enqueue("write", from_, to, std::move(done), deadline,
                    [request](ReplicaNode* n, Callback<pb::ReplicaWriteResponse> cb) {
                      cb(n->HandleWrite(request));
                    });
    }
    void CoordinatePut(const std::string& to, const pb::CoordinatePutRequest& request,
                       absl::Time deadline, Callback<pb::CoordinatePutResponse> done) override {
      net_->Enqueue("coordinate_put", from_, to, std::move(done), deadline,
                    [request, deadline](ReplicaNode* n, Callback<pb::CoordinatePutResponse> cb) {
                      n->HandleCoordinatePut(request, deadline,
                                             [cb](pb::CoordinatePutResponse r) { cb(r); });
                    });
    }
    void Ping(const std::string& to, const pb::PingRequest& request, absl::Time deadline,
              Callback<pb::PingResponse> done) override {
      net_->Enqueue(
          "ping", from_, to, std::move(done), deadline,
          [request](ReplicaNode* n, Callback<pb::PingResponse> cb) { cb(n->HandlePing(request)); });
    }
    void Exchange(const std::string& to, const pb::ExchangeRequest& request, absl::Time deadline,
                  Callback<pb::ExchangeResponse> done) override {
      net_->Enqueue("exchange", from_, to, std::move(done), deadline,
                    [request](ReplicaNode* n, Callback<pb::ExchangeResponse> cb) {
                      cb(n->HandleExchange(request));
                    });
    }

   private:
    FakeNetwork* const net_;
    const std::string from_;
  };

  template <typename T, typename Handler>
  void Enqueue(std::string kind, const std::string& from, const std::string& to,
               Transport::Callback<T> done, absl::Time deadline, Handler handle) {
    auto callback = std::make_shared<Transport::Callback<T>>(std::move(done));
    Call call{.kind = std::move(kind), .from = from, .to = to, .deadline = deadline};
    call.deliver = [this, to, callback, handle] { handle(nodes_.at(to), *callback); };
    call.fail = [callback](absl::Status status) { (*callback)(std::move(status)); };
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(call));
  }

  std::optional<Call> Take(const Filter& filter) {
    absl::MutexLock lock(&mu_);
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (!filter(*it)) continue;
      Call call = std::move(*it);
      queue_.erase(it);
      return call;
    }
    return std::nullopt;
  }

  void Run(const Call& call) {
    switch (health_[call.to]) {
      case Health::kUp:
        return call.deliver();
      case Health::kDown:
        return call.fail(NotSentError(absl::StrCat(call.to, " is down (connection refused)")));
      case Health::kHung:
        return call.fail(absl::DeadlineExceededError(absl::StrCat(call.to, " did not answer")));
      case Health::kOverloaded:
        return call.fail(absl::ResourceExhaustedError(
            absl::StrCat("overloaded: ", call.to, " sheds the call; retry later")));
    }
  }

  std::map<std::string, ReplicaNode*> nodes_;
  std::map<std::string, std::unique_ptr<NodeTransport>> transports_;
  std::map<std::string, Health> health_;
  absl::Mutex mu_;
  std::deque<Call> queue_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv::test_support

#endif  // QUORUMKV_TESTS_UNIT_REPLICATION_FAKE_NETWORK_H_
