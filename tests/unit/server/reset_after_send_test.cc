// What a write reports when its connection is reset after the request went
// out (the peer may have applied it): a node's replica write through
// GrpcTransport, and a client's put through KvClient, each to a server that
// holds the request, behind kvharness's LinkProxy.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/kv_client.h"
#include "proto/kv.grpc.pb.h"
#include "proto/replica.grpc.pb.h"
#include "server/grpc_transport.h"
#include "server/system_clock.h"
#include "tests/unit/server/transport_support.h"
#include "tools/kvharness/link_proxy.h"
#include "tools/kvharness/local_cluster.h"

namespace quorumkv {
namespace {

// Counts the requests a fake server takes and holds each until released
// (or for 10 s).
class Hold {
 public:
  void Take(int requests) {
    absl::MutexLock lock(&mu_);
    taken_ += requests;
    mu_.AwaitWithTimeout(absl::Condition(&released_), absl::Seconds(10));
  }
  bool AwaitTaken(int count, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return taken_ >= count; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }

 private:
  absl::Mutex mu_;
  int taken_ ABSL_GUARDED_BY(mu_) = 0;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

// Holds each batch of replica writes (the transport batches them).
class HoldingReplica final : public v1::ReplicaService::Service {
 public:
  grpc::Status WriteBatch(grpc::ServerContext*, const v1::ReplicaWriteBatchRequest* request,
                          v1::ReplicaWriteBatchResponse* response) override {
    hold.Take(request->writes_size());
    for (int i = 0; i < request->writes_size(); ++i) response->add_results();
    return grpc::Status::OK;
  }
  Hold hold;
};

// Holds each put.
class HoldingKvService final : public v1::KvService::Service {
 public:
  grpc::Status Put(grpc::ServerContext*, const v1::PutRequest*, v1::PutResponse*) override {
    hold.Take(1);
    return grpc::Status::OK;
  }
  Hold hold;
};

// The link proxy on a thread of its own; Reset resets link n1->n2 (open
// connections and new ones).
class ProxyThread {
 public:
  explicit ProxyThread(std::unique_ptr<LinkProxy> proxy) : proxy_(std::move(proxy)) {
    thread_ = std::thread([this] {
      bool reset = false;
      while (!stop_) {
        if (reset_ && !reset) {
          LinkFaults faults;
          faults[{"n1", "n2"}].reset = true;
          proxy_->SetFaults(faults);
          reset = true;
        }
        proxy_->RunFor(absl::Milliseconds(5));
      }
    });
  }
  ~ProxyThread() {
    stop_ = true;
    thread_.join();
  }
  void Reset() { reset_ = true; }

 private:
  std::unique_ptr<LinkProxy> proxy_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reset_{false};
  std::thread thread_;
};

// The write reached the replica, then its connection was reset: the
// transport's retry finds the link refusing connections, but that must not
// make the call look unsent — the replica may have applied it.
TEST(GrpcTransportTest, ACallResetAfterItWentOutHasAnUnknownOutcome) {
  absl::StatusOr<std::vector<int>> ports = PickFreePorts(2);
  ASSERT_TRUE(ports.ok()) << ports.status();
  const std::string replica_address = absl::StrCat("127.0.0.1:", (*ports)[0]);
  HoldingReplica replica;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(replica_address, grpc::InsecureServerCredentials());
  builder.RegisterService(&replica);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  // Run on every way out, a failed assertion's too (in reverse order).
  absl::Cleanup stop_server = [&] {
    replica.hold.Release();
    server->Shutdown();
  };
  absl::StatusOr<std::unique_ptr<LinkProxy>> proxy = LinkProxy::Create(
      {ProxiedLink{
          .from = "n1", .to = "n2", .listen_port = (*ports)[1], .target = replica_address}},
      1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto proxy_thread = std::make_unique<ProxyThread>(*std::move(proxy));

  absl::StatusOr<v1::ClusterConfig> config = TwoNodeConfig(absl::StrCat("127.0.0.1:", (*ports)[1]));
  ASSERT_TRUE(config.ok()) << config.status();
  PolledQueue queue;
  SystemClock clock;
  std::optional<absl::Status> result;
  absl::Mutex mu;
  {
    GrpcTransport transport("n1", *config, &clock, {queue.get()},
                            grpc::InsecureChannelCredentials());
    v1::ReplicaWriteRequest write;
    write.set_key("k");
    write.set_from("n1");
    transport.Write("n2", write, clock.Now() + absl::Seconds(20),
                    [&](absl::StatusOr<v1::ReplicaWriteResponse> reply) {
                      absl::MutexLock lock(&mu);
                      result = reply.status();
                    });
    ASSERT_TRUE(replica.hold.AwaitTaken(1, absl::Seconds(10))) << "the write never arrived";
    proxy_thread->Reset();
    {
      absl::MutexLock lock(&mu);
      auto finished = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return result.has_value(); };
      ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&finished), absl::Seconds(15)));
      EXPECT_FALSE(result->ok());
      EXPECT_FALSE(IsNotSent(*result)) << *result;
      EXPECT_TRUE(OutcomeUnknown(*result)) << *result;
    }
    replica.hold.Release();
  }
}

// The put reached a coordinator, then its connection was reset and every
// later attempt was refused: the put may have been applied, so its outcome
// is unknown (kvctl exit 5), not "no node reachable" (exit 4).
TEST(KvClientResetTest, APutResetAfterItWentOutHasAnUnknownOutcome) {
  absl::StatusOr<std::vector<int>> ports = PickFreePorts(2);
  ASSERT_TRUE(ports.ok()) << ports.status();
  const std::string node_address = absl::StrCat("127.0.0.1:", (*ports)[0]);
  HoldingKvService node;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(node_address, grpc::InsecureServerCredentials());
  builder.RegisterService(&node);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  absl::Cleanup stop_server = [&] {
    node.hold.Release();
    server->Shutdown();
  };
  absl::StatusOr<std::unique_ptr<LinkProxy>> proxy = LinkProxy::Create(
      {ProxiedLink{.from = "n1", .to = "n2", .listen_port = (*ports)[1], .target = node_address}},
      1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto proxy_thread = std::make_unique<ProxyThread>(*std::move(proxy));
  absl::StatusOr<std::unique_ptr<KvClient>> client =
      KvClient::Connect(KvClientOptions{.endpoints = {absl::StrCat("127.0.0.1:", (*ports)[1])},
                                        .timeout = absl::Seconds(3),
                                        .route_by_key = false});
  ASSERT_TRUE(client.ok()) << client.status();

  std::optional<absl::Status> result;
  absl::Mutex mu;
  std::thread put([&] {
    absl::StatusOr<v1::PutResponse> r = (*client)->Put("k", "v", WriteOptions{});
    absl::MutexLock lock(&mu);
    result = r.status();
  });
  absl::Cleanup join_put = [&] {
    node.hold.Release();
    put.join();
  };
  ASSERT_TRUE(node.hold.AwaitTaken(1, absl::Seconds(10))) << "the put never arrived";
  proxy_thread->Reset();
  {
    absl::MutexLock lock(&mu);
    auto finished = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return result.has_value(); };
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&finished), absl::Seconds(15)));
  }
  absl::MutexLock lock(&mu);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), absl::StatusCode::kDeadlineExceeded) << *result;
  EXPECT_NE(result->message().find("outcome unknown"), std::string::npos) << *result;
}

}  // namespace
}  // namespace quorumkv
