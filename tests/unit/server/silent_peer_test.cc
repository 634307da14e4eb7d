// A peer that takes the TCP connection and then never answers the TLS
// handshake: a node behind a partition that drops its bytes, a hung
// process. Calls to it must end unsent, in time for the caller to go
// elsewhere, not sit on the connection being made until their deadline
// and look as if they may have been applied.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/kv_client.h"
#include "security/cert_authority.h"
#include "server/grpc_transport.h"
#include "server/system_clock.h"
#include "tests/unit/server/transport_support.h"
#include "tools/kvharness/local_cluster.h"

namespace quorumkv {
namespace {

// Listens on a free loopback port and never accepts: the kernel completes
// TCP handshakes into the backlog, and no byte ever comes back.
class SilentPeer {
 public:
  SilentPeer() {
    absl::StatusOr<std::vector<int>> ports = PickFreePorts(1);
    EXPECT_TRUE(ports.ok()) << ports.status();
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(ports.ok() ? (*ports)[0] : 0));
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 64), 0);
    address_ = absl::StrCat("127.0.0.1:", ports.ok() ? (*ports)[0] : 0);
  }
  ~SilentPeer() { close(fd_); }
  const std::string& address() const { return address_; }

 private:
  int fd_ = -1;
  std::string address_;
};

// A CA and a client certificate, in files under a fresh directory.
class ClientTls {
 public:
  ClientTls() : dir_(std::filesystem::path(::testing::TempDir()) / "qkv-silent-peer-tls") {
    std::filesystem::create_directories(dir_);
    const absl::Time now = absl::Now();
    absl::StatusOr<CertAuthority> ca =
        CertAuthority::Create("silent peer test CA", now - absl::Hours(1), now + absl::Hours(1));
    EXPECT_TRUE(ca.ok()) << ca.status();
    if (!ca.ok()) return;
    absl::StatusOr<IssuedCertificate> client = ca->Issue({.common_name = "client:test",
                                                          .not_before = now - absl::Hours(1),
                                                          .not_after = now + absl::Hours(1)});
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return;
    ca_pem_ = ca->cert_pem();
    Write("ca.pem", ca_pem_);
    Write("client.pem", client->cert_pem);
    Write("client-key.pem", client->key_pem);
  }
  ~ClientTls() { std::filesystem::remove_all(dir_); }
  TlsFiles files() const { return TlsFilesIn(dir_.string(), "client"); }
  std::shared_ptr<grpc::ChannelCredentials> credentials() const {
    return grpc::SslCredentials(grpc::SslCredentialsOptions{.pem_root_certs = ca_pem_});
  }

 private:
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  const std::filesystem::path dir_;
  std::string ca_pem_;
};

TEST(SilentPeerTest, AReplicaWriteEndsUnsentWithinTheConnectWait) {
  SilentPeer peer;
  ClientTls tls;
  absl::StatusOr<v1::ClusterConfig> config = TwoNodeConfig(peer.address());
  ASSERT_TRUE(config.ok()) << config.status();
  PolledQueue queue;
  SystemClock clock;
  std::optional<absl::Status> result;
  absl::Mutex mu;
  const absl::Time start = absl::Now();
  {
    GrpcTransport transport("n1", *config, &clock, {queue.get()}, tls.credentials());
    v1::ReplicaWriteRequest write;
    write.set_key("k");
    write.set_from("n1");
    transport.Write("n2", write, clock.Now() + absl::Seconds(10),
                    [&](absl::StatusOr<v1::ReplicaWriteResponse> reply) {
                      absl::MutexLock lock(&mu);
                      result = reply.status();
                    });
    absl::MutexLock lock(&mu);
    auto finished = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return result.has_value(); };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&finished), absl::Seconds(15)));
    EXPECT_TRUE(IsNotSent(*result)) << *result;
    // kConnectWait (1 s), well before the deadline.
    EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << *result;
  }
}

TEST(SilentPeerTest, AClientPutIsUnavailableNotOfUnknownOutcome) {
  SilentPeer peer;
  ClientTls tls;
  absl::StatusOr<std::unique_ptr<KvClient>> client =
      KvClient::Connect(KvClientOptions{.endpoints = {peer.address()},
                                        .timeout = absl::Seconds(2),
                                        .route_by_key = false,
                                        .tls = tls.files()});
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<v1::PutResponse> put = (*client)->Put("k", "v");
  // Unsent: "could not connect in time", or the breaker that those opened.
  EXPECT_EQ(put.status().code(), absl::StatusCode::kUnavailable) << put.status();
  EXPECT_NE(put.status().message().find("no node reachable"), std::string::npos) << put.status();
  EXPECT_EQ(put.status().message().find("outcome unknown"), std::string::npos) << put.status();
}

}  // namespace
}  // namespace quorumkv
