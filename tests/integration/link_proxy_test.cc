// kvharness's LinkProxy between a client socket and an echo server on
// loopback: forwarding, and each fault on the direction it names.
#include "tools/kvharness/link_proxy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tools/kvharness/local_cluster.h"

namespace quorumkv {
namespace {

int ListenOn(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << strerror(errno);
  EXPECT_EQ(listen(fd, 16), 0);
  return fd;
}

// The ports the harness gives its nodes and proxies: distinct, free, and
// below the kernel's ephemeral range, where no outgoing connection's local
// port can take one before its server binds it (a node that then could not
// listen made a benchmark's reads go to another test's node).
TEST(PickFreePortsTest, PortsAreDistinctFreeAndBelowTheEphemeralRange) {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int ephemeral_low = 0, ephemeral_high = 0;
  ASSERT_TRUE(range >> ephemeral_low >> ephemeral_high);
  absl::StatusOr<std::vector<int>> ports = PickFreePorts(40);
  ASSERT_TRUE(ports.ok()) << ports.status();
  ASSERT_EQ(ports->size(), 40u);
  EXPECT_EQ(std::set<int>(ports->begin(), ports->end()).size(), 40u);
  for (int port : *ports) {
    EXPECT_LT(port, ephemeral_low);
    const int fd = ListenOn(port);
    close(fd);
  }
}

int ConnectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << strerror(errno);
  return fd;
}

// Echoes every connection's bytes back, one thread per connection.
class EchoServer {
 public:
  explicit EchoServer(int port) : listener_(ListenOn(port)) {
    acceptor_ = std::thread([this] {
      for (;;) {
        const int fd = accept(listener_, nullptr, nullptr);
        if (fd < 0) return;  // the listener was shut down
        absl::MutexLock lock(&mu_);
        fds_.push_back(fd);
        echoes_.emplace_back([fd] {
          char buffer[4096];
          for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
            if (send(fd, buffer, n, MSG_NOSIGNAL) != n) return;
          }
        });
      }
    });
  }
  ~EchoServer() {
    shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    close(listener_);
    absl::MutexLock lock(&mu_);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    for (std::thread& t : echoes_) t.join();
    for (int fd : fds_) close(fd);
  }

 private:
  const int listener_;
  std::thread acceptor_;
  absl::Mutex mu_;
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> echoes_ ABSL_GUARDED_BY(mu_);
};

// A LinkProxy for the link a->b in front of an EchoServer, run by a thread
// of its own; faults and counters pass through the test's calls.
class LinkProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::vector<int>> ports = PickFreePorts(2);
    ASSERT_TRUE(ports.ok()) << ports.status();
    proxy_port_ = (*ports)[0];
    echo_ = std::make_unique<EchoServer>((*ports)[1]);
    absl::StatusOr<std::unique_ptr<LinkProxy>> proxy =
        LinkProxy::Create({ProxiedLink{.from = "a",
                                       .to = "b",
                                       .listen_port = proxy_port_,
                                       .target = "127.0.0.1:" + std::to_string((*ports)[1])}},
                          /*seed=*/1);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *std::move(proxy);
    runner_ = std::thread([this] {
      while (!stop_) {
        proxy_->RunFor(absl::Milliseconds(5));
        absl::MutexLock lock(&mu_);
        if (pending_) proxy_->SetFaults(*std::exchange(pending_, std::nullopt));
        counters_ = proxy_->counters(0);
      }
    });
  }
  void TearDown() override {
    stop_ = true;
    if (runner_.joinable()) runner_.join();
  }

  void SetFaults(LinkFaults faults) {
    absl::MutexLock lock(&mu_);
    pending_ = std::move(faults);
    const auto applied = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !pending_; };
    mu_.AwaitWithTimeout(absl::Condition(&applied), absl::Seconds(10));
  }
  LinkCounters Counters() {
    absl::MutexLock lock(&mu_);
    return counters_;
  }
  // Waits for `condition` on the proxy's counters, up to 10 s.
  bool WaitForCounters(const std::function<bool(const LinkCounters&)>& condition) {
    absl::MutexLock lock(&mu_);
    const auto holds = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return condition(counters_); };
    return mu_.AwaitWithTimeout(absl::Condition(&holds), absl::Seconds(10));
  }
  // Reads `size` bytes, waiting up to 10 s; fewer if the connection ends.
  static std::string ReadBytes(int fd, size_t size) {
    std::string got;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (got.size() < size && absl::Now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buffer[256];
      const ssize_t n = recv(fd, buffer, std::min(sizeof(buffer), size - got.size()), 0);
      if (n <= 0) break;
      got.append(buffer, n);
    }
    return got;
  }
  // Whether the connection ends (reset or closed) within 10 s.
  static bool Ends(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10'000) <= 0) return false;
    char c;
    return recv(fd, &c, 1, 0) <= 0;
  }

  int proxy_port_ = 0;
  std::unique_ptr<EchoServer> echo_;
  std::unique_ptr<LinkProxy> proxy_;
  std::thread runner_;
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  std::optional<LinkFaults> pending_ ABSL_GUARDED_BY(mu_);
  LinkCounters counters_ ABSL_GUARDED_BY(mu_);
};

TEST_F(LinkProxyTest, ForwardsBothWays) {
  const int fd = ConnectTo(proxy_port_);
  ASSERT_EQ(send(fd, "hello", 5, 0), 5);
  EXPECT_EQ(ReadBytes(fd, 5), "hello");
  EXPECT_TRUE(WaitForCounters([](const LinkCounters& c) { return c.bytes_forwarded >= 10; }));
  close(fd);
}

TEST_F(LinkProxyTest, ADropLosesTheBytesKeepsTheConnectionAndItsEndResetsIt) {
  const int fd = ConnectTo(proxy_port_);
  ASSERT_EQ(send(fd, "a", 1, 0), 1);
  ASSERT_EQ(ReadBytes(fd, 1), "a");
  SetFaults({{{"a", "b"}, LinkFault{.drop = true}}});
  ASSERT_EQ(send(fd, "lost", 4, 0), 4) << "the sender sees no error";
  ASSERT_TRUE(WaitForCounters([](const LinkCounters& c) { return c.bytes_dropped >= 4; }));
  char c;
  EXPECT_EQ(recv(fd, &c, 1, MSG_DONTWAIT), -1) << "nothing came back";
  EXPECT_EQ(errno, EAGAIN);
  SetFaults({});
  EXPECT_TRUE(Ends(fd)) << "a connection that lost bytes is reset when the drop ends";
  close(fd);
  const int fresh = ConnectTo(proxy_port_);
  ASSERT_EQ(send(fresh, "b", 1, 0), 1);
  EXPECT_EQ(ReadBytes(fresh, 1), "b");
  close(fresh);
}

TEST_F(LinkProxyTest, ADropOfTheOtherDirectionLosesOnlyTheAnswers) {
  SetFaults({{{"b", "a"}, LinkFault{.drop = true}}});
  const int fd = ConnectTo(proxy_port_);
  ASSERT_EQ(send(fd, "ping", 4, 0), 4);
  // The echo server got the request (4 bytes forwarded); its answer vanished.
  ASSERT_TRUE(WaitForCounters(
      [](const LinkCounters& c) { return c.bytes_forwarded >= 4 && c.bytes_dropped >= 4; }));
  EXPECT_EQ(Counters().bytes_forwarded, 4u);
  close(fd);
}

TEST_F(LinkProxyTest, AResetRefusesNewConnectionsAndResetsOpenOnes) {
  const int open = ConnectTo(proxy_port_);
  ASSERT_EQ(send(open, "a", 1, 0), 1);
  ASSERT_EQ(ReadBytes(open, 1), "a");
  SetFaults({{{"a", "b"}, LinkFault{.reset = true}}});
  EXPECT_TRUE(Ends(open));
  const int refused = ConnectTo(proxy_port_);
  EXPECT_TRUE(Ends(refused));
  close(open);
  close(refused);
}

TEST_F(LinkProxyTest, ADelayHoldsBytesAndKeepsTheirOrder) {
  SetFaults(
      {{{"a", "b"}, LinkFault{.delay = absl::Milliseconds(40), .jitter = absl::Milliseconds(30)}}});
  const int fd = ConnectTo(proxy_port_);
  const absl::Time start = absl::Now();
  std::string sent;
  for (int i = 0; i < 20; ++i) {
    const std::string piece = std::to_string(i) + ",";
    ASSERT_EQ(send(fd, piece.data(), piece.size(), 0), static_cast<ssize_t>(piece.size()));
    sent += piece;
  }
  EXPECT_EQ(ReadBytes(fd, sent.size()), sent);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(40));
  close(fd);
}

}  // namespace
}  // namespace quorumkv
