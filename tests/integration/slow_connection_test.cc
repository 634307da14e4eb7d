// Connections slow to set up, as a TLS handshake is on a loaded machine,
// made slow here by a delaying proxy: kvharness's readiness wait
// (WaitServing) and the client still get through, where a connection
// attempt cut short after 100 ms and started over never did.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "client/kv_client.h"
#include "proto/health.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"
#include "tools/kvharness/link_proxy.h"
#include "tools/kvharness/local_cluster.h"
#include "tools/kvharness/readiness.h"

namespace quorumkv {
namespace {

class AlwaysServing final : public grpc::health::v1::Health::Service {
  grpc::Status Check(grpc::ServerContext*, const grpc::health::v1::HealthCheckRequest*,
                     grpc::health::v1::HealthCheckResponse* response) override {
    response->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    return grpc::Status::OK;
  }
};

// A LinkProxy (link "a"->"b") in front of `target` that holds every byte,
// both ways, for `one_way_delay`, run by a thread of its own.
class DelayingProxy {
 public:
  DelayingProxy(int listen_port, const std::string& target, absl::Duration one_way_delay)
      : address_("127.0.0.1:" + std::to_string(listen_port)) {
    absl::StatusOr<std::unique_ptr<LinkProxy>> proxy = LinkProxy::Create(
        {ProxiedLink{.from = "a", .to = "b", .listen_port = listen_port, .target = target}},
        /*seed=*/1);
    EXPECT_TRUE(proxy.ok()) << proxy.status();
    if (!proxy.ok()) return;
    proxy_ = *std::move(proxy);
    proxy_->SetFaults({{{"a", "b"}, LinkFault{.delay = one_way_delay}},
                       {{"b", "a"}, LinkFault{.delay = one_way_delay}}});
    runner_ = std::thread([this] {
      while (!stop_) proxy_->RunFor(absl::Milliseconds(5));
    });
  }
  ~DelayingProxy() {
    stop_ = true;
    if (runner_.joinable()) runner_.join();
  }
  const std::string& address() const { return address_; }

 private:
  const std::string address_;
  std::unique_ptr<LinkProxy> proxy_;
  std::thread runner_;
  std::atomic<bool> stop_{false};
};

// A plaintext health server behind a DelayingProxy.
class SlowHealthServer {
 public:
  explicit SlowHealthServer(absl::Duration one_way_delay) {
    absl::StatusOr<std::vector<int>> ports = PickFreePorts(2);
    EXPECT_TRUE(ports.ok()) << ports.status();
    if (!ports.ok()) return;
    const std::string server_address = "127.0.0.1:" + std::to_string((*ports)[1]);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(server_address, grpc::InsecureServerCredentials());
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    EXPECT_NE(server_, nullptr);
    proxy_.emplace((*ports)[0], server_address, one_way_delay);
  }
  ~SlowHealthServer() {
    proxy_.reset();
    if (server_) server_->Shutdown(absl::ToChronoTime(absl::Now()));
  }
  std::string address() const { return proxy_ ? proxy_->address() : ""; }

 private:
  AlwaysServing service_;
  std::unique_ptr<grpc::Server> server_;
  std::optional<DelayingProxy> proxy_;
};

TEST(WaitServingTest, ANodeSlowerToAnswerThanOneAttemptIsFoundReady) {
  // 250 ms each way: one health check takes at least 500 ms, and a fresh
  // connection more.
  SlowHealthServer server(absl::Milliseconds(250));
  const absl::Time start = absl::Now();
  absl::Status ready = WaitServing(server.address(), grpc::InsecureChannelCredentials(),
                                   start + absl::Seconds(30), [] { return absl::OkStatus(); });
  EXPECT_TRUE(ready.ok()) << ready << " after " << absl::Now() - start;
}

TEST(WaitServingTest, ANodeThatIsNotThereEndsTheWaitAtTheDeadlineOrWhenItExits) {
  absl::StatusOr<std::vector<int>> ports = PickFreePorts(1);
  ASSERT_TRUE(ports.ok()) << ports.status();
  const std::string nobody = "127.0.0.1:" + std::to_string((*ports)[0]);
  absl::Status ready = WaitServing(nobody, grpc::InsecureChannelCredentials(),
                                   absl::Now() + absl::Seconds(1), [] { return absl::OkStatus(); });
  EXPECT_TRUE(absl::IsDeadlineExceeded(ready)) << ready;

  int asked = 0;
  ready =
      WaitServing(nobody, grpc::InsecureChannelCredentials(), absl::Now() + absl::Seconds(30), [&] {
        return ++asked < 3 ? absl::OkStatus()
                           : absl::InternalError("node n1 exited while starting");
      });
  EXPECT_EQ(ready, absl::InternalError("node n1 exited while starting"));
}

// One node over mutual TLS, reached through a proxy that holds bytes
// kOneWayDelay each way. A connection then needs four one-way trips before
// its first call (ClientHello; the server's flight; the client's Finished
// with the HTTP/2 preface; the server's SETTINGS): 1.6 s and more. That is
// longer than the at most 1.2 s attempts the client and the harness once
// gave up after, and well inside the 5 s an attempt may take now, even on
// a loaded machine (at 1 s each way, 4 s of delay left too little room:
// attempts timed out under the suite's load).
constexpr absl::Duration kOneWayDelay = absl::Milliseconds(400);

class SlowHandshakeTest : public testing::ClusterTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartCluster(/*nodes=*/1, /*replicas=*/1));
    absl::StatusOr<std::vector<int>> ports = PickFreePorts(1);
    ASSERT_TRUE(ports.ok()) << ports.status();
    proxy_.emplace((*ports)[0], node_endpoints_[0], kOneWayDelay);
  }
  void TearDown() override {
    proxy_.reset();
    ClusterTest::TearDown();
  }
  std::optional<DelayingProxy> proxy_;
};

TEST_F(SlowHandshakeTest, TheHarnessFindsTheNodeReady) {
  const absl::Time start = absl::Now();
  absl::Status ready = WaitServing(proxy_->address(), CredentialsOf("kvharness"),
                                   start + absl::Seconds(30), [] { return absl::OkStatus(); });
  EXPECT_TRUE(ready.ok()) << ready << " after " << absl::Now() - start;
}

TEST_F(SlowHandshakeTest, TheClientConnectsAndWrites) {
  absl::StatusOr<std::unique_ptr<KvClient>> client = KvClient::Connect(
      {.endpoints = {proxy_->address()}, .timeout = absl::Seconds(30), .tls = TlsOf("client")});
  ASSERT_TRUE(client.ok()) << client.status();
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::PutResponse> put = (*client)->Put("slow/handshake", "v");
  EXPECT_TRUE(put.ok()) << put.status() << " after " << absl::Now() - start;
}

}  // namespace
}  // namespace quorumkv
