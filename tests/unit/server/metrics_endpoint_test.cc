// MetricsEndpoint (server/metrics_endpoint.h) on an address it cannot bind:
// kvnode logs metrics_not_served and serves without metrics, so Start must
// return, at once, whatever holds the port.
#include "server/metrics_endpoint.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace quorumkv {
namespace {

// A loopback port held by a plain listening socket (no SO_REUSEPORT, as a
// gRPC server or a kvharness proxy of another cluster holds one).
class HeldPort {
 public:
  HeldPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 8), 0);
    socklen_t size = sizeof(addr);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &size), 0);
    port_ = ntohs(addr.sin_port);
  }
  ~HeldPort() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// What Start returned, from the thread that called it.
struct Outcome {
  absl::Mutex mu;
  bool returned ABSL_GUARDED_BY(mu) = false;
  absl::Status status ABSL_GUARDED_BY(mu);
};

TEST(MetricsEndpointTest, AnAddressInUseIsUnavailableAtOnce) {
  HeldPort held;
  auto outcome = std::make_shared<Outcome>();
  // On a thread of its own, detached: a Start that never returns must fail
  // this test, not hang the binary.
  std::thread([outcome, address = absl::StrCat("127.0.0.1:", held.port())] {
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
        MetricsEndpoint::Start(address, [] { return std::string(); });
    absl::MutexLock lock(&outcome->mu);
    outcome->returned = true;
    outcome->status = endpoint.status();
  }).detach();
  absl::MutexLock lock(&outcome->mu);
  auto returned = [&]() ABSL_SHARED_LOCKS_REQUIRED(outcome->mu) { return outcome->returned; };
  ASSERT_TRUE(outcome->mu.AwaitWithTimeout(absl::Condition(&returned), absl::Seconds(10)))
      << "MetricsEndpoint::Start did not return within 10 s";
  EXPECT_TRUE(absl::IsUnavailable(outcome->status)) << outcome->status;
  EXPECT_NE(outcome->status.message().find("address in use?"), std::string::npos)
      << outcome->status;
}

TEST(MetricsEndpointTest, AFreeAddressIsServedAndStops) {
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
      MetricsEndpoint::Start("127.0.0.1:0", [] { return std::string("up 1\n"); });
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_GT((*endpoint)->port(), 0);
  endpoint->reset();  // stops and joins
}

}  // namespace
}  // namespace quorumkv
