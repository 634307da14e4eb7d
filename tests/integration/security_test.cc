// Who may talk to a node (SPEC §9), on a cluster kvharness runs over mutual
// TLS: forged replica traffic, fault injection by others than the harness,
// and each kind of bad certificate, named at the side that holds it.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/admin.grpc.pb.h"
#include "proto/replica.grpc.pb.h"
#include "security/cert_authority.h"
#include "security/tls_credentials.h"
#include "tests/integration/cluster_fixture.h"
#include "tools/kvharness/process.h"

namespace quorumkv::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// The file's text ("" if unreadable).
std::string ReadAll(const fs::path& path) { return ReadTextFile(path.string()).value_or(""); }

class SecurityTest : public ClusterTest {
 protected:
  void SetUp() override { StartCluster(3, 3); }

  // A replica write of `value` for key "k" under the dot `actor`:`counter`.
  static v1::ReplicaWriteRequest ForgedWrite(const std::string& actor, uint64_t counter) {
    v1::ReplicaWriteRequest write;
    write.set_key("k");
    write.set_from("n2");
    v1::VersionVectorEntry* entry = write.mutable_object()->mutable_context()->add_entries();
    entry->set_actor(actor);
    entry->set_counter(counter);
    v1::Sibling* sibling = write.mutable_object()->add_siblings();
    sibling->set_value("evil");
    sibling->mutable_dot()->set_actor(actor);
    sibling->mutable_dot()->set_counter(counter);
    return write;
  }

  static grpc::Status Send(const std::string& endpoint,
                           const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                           const v1::ReplicaWriteRequest& write) {
    auto stub = v1::ReplicaService::NewStub(grpc::CreateChannel(endpoint, credentials));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::ReplicaWriteResponse response;
    return stub->Write(&context, write, &response);
  }

  static grpc::Status SetFaults(const std::string& endpoint,
                                const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
    auto stub = v1::AdminService::NewStub(grpc::CreateChannel(endpoint, credentials));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::SetFaultsRequest request;
    request.set_disk_full(true);
    v1::SetFaultsResponse response;
    return stub->SetFaults(&context, request, &response);
  }

  // Certificates issued by the cluster's own CA (from D/tls), as
  // `name`.pem and `name`-key.pem in D/extra, with ca.pem beside them.
  TlsFiles IssueFromClusterCa(const std::string& name, const CertificateRequest& request) {
    absl::StatusOr<CertAuthority> ca = CertAuthority::Load(
        ReadAll(fs::path(dir_) / "tls/ca.pem"), ReadAll(fs::path(dir_) / "tls/ca-key.pem"));
    EXPECT_TRUE(ca.ok()) << ca.status();
    return WriteIssued(*ca, ca->cert_pem(), name, request);
  }
  TlsFiles WriteIssued(const CertAuthority& by, const std::string& trusted_ca_pem,
                       const std::string& name, const CertificateRequest& request) {
    const fs::path extra = fs::path(dir_) / "extra";
    fs::create_directories(extra);
    absl::StatusOr<IssuedCertificate> issued = by.Issue(request);
    EXPECT_TRUE(issued.ok()) << issued.status();
    std::ofstream(extra / "ca.pem") << trusted_ca_pem;
    std::ofstream(extra / (name + ".pem")) << issued->cert_pem;
    std::ofstream(extra / (name + "-key.pem")) << issued->key_pem;
    return TlsFilesIn(extra.string(), name);
  }
  static CertificateRequest ValidFor(absl::Duration from, absl::Duration until,
                                     const std::string& name = "client:kvctl") {
    return CertificateRequest{.common_name = name,
                              .hosts = {"127.0.0.1"},
                              .not_before = absl::Now() + from,
                              .not_after = absl::Now() + until};
  }
  static std::string NodeActor(const nlohmann::json& put) {
    const std::string dot = put["dot"].get<std::string>();
    return dot.substr(0, dot.rfind(':'));
  }
};

// The probe that found the hole: a plain client's forged replica write
// replaced an acknowledged value on every node, and from then on every put
// of the key through n1 failed.
TEST_F(SecurityTest, AForgedReplicaWriteIsRefusedAndTheKeyStaysWritable) {
  nlohmann::json put = KvctlJson({"put", "k", "acked", "--w", "3"});
  ASSERT_TRUE(put.contains("dot")) << put.dump();
  const std::string n1_actor = NodeActor(put);
  const v1::ReplicaWriteRequest forged = ForgedWrite(n1_actor, uint64_t{1} << 62);
  for (const std::string& endpoint : node_endpoints_) {
    grpc::Status as_client = Send(endpoint, CredentialsOf("client"), forged);
    EXPECT_EQ(as_client.error_code(), grpc::StatusCode::PERMISSION_DENIED) << endpoint;
    EXPECT_THAT(as_client.error_message(),
                HasSubstr("refuses the certificate of \"client:kvctl\""));
    grpc::Status plaintext = Send(endpoint, grpc::InsecureChannelCredentials(), forged);
    EXPECT_EQ(plaintext.error_code(), grpc::StatusCode::UNAVAILABLE) << endpoint;
  }
  // Even an authenticated node's write is refused: the dot was never
  // issued (defence in depth). The nodes learn each other's leases from
  // their pings, every 100 ms.
  for (const std::string& endpoint : node_endpoints_) {
    grpc::Status as_node;
    EXPECT_TRUE(WaitFor(absl::Seconds(10),
                        [&] {
                          as_node = Send(endpoint, CredentialsOf("n2"), forged);
                          return as_node.error_code() == grpc::StatusCode::INVALID_ARGUMENT;
                        }))
        << endpoint << ": " << as_node.error_message();
    EXPECT_THAT(as_node.error_message(), HasSubstr("was never issued"));
  }
  // Nor can a node speak for another in a ping, which tells the dots its
  // node may have issued.
  auto stub =
      v1::ReplicaService::NewStub(grpc::CreateChannel(node_endpoints_[0], CredentialsOf("n2")));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::PingRequest ping;
  ping.set_from("n3");
  v1::PingResponse pong;
  grpc::Status spoofed = stub->Ping(&context, ping, &pong);
  EXPECT_EQ(spoofed.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(spoofed.error_message(), HasSubstr("\"node:n2\" says it comes from node n3"));
  nlohmann::json got = KvctlJson({"get", "k", "--r", "3"});
  EXPECT_THAT(LiveValues(got), ::testing::ElementsAre("acked")) << got.dump();
  CommandResult next = KvctlVia("n1", {"put", "k", "next", "--context", got["context"]});
  EXPECT_EQ(next.exit_code, 0) << next.err;
}

TEST_F(SecurityTest, OnlyTheHarnessMayInjectFaults) {
  grpc::Status as_client = SetFaults(node_endpoints_[0], CredentialsOf("client"));
  EXPECT_EQ(as_client.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(as_client.error_message(), HasSubstr("answers only client:kvharness"));
  grpc::Status as_node = SetFaults(node_endpoints_[0], CredentialsOf("n2"));
  EXPECT_EQ(as_node.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Nothing was injected: writes still succeed.
  EXPECT_EQ(KvctlVia("n1", {"put", "after", "v", "--w", "3"}).exit_code, 0);
  // The harness, with its own certificate, may.
  EXPECT_EQ(Harness({"skew", "n1", "50"}).exit_code, 0);
  EXPECT_EQ(Harness({"skew", "n1", "0"}).exit_code, 0);
}

TEST_F(SecurityTest, AClientsBadCertificateIsNamedBeforeItConnects) {
  struct Case {
    TlsFiles files;
    std::string says;
  };
  absl::StatusOr<CertAuthority> other = CertAuthority::Create(
      "another CA", absl::Now() - absl::Hours(1), absl::Now() + absl::Hours(9));
  ASSERT_TRUE(other.ok());
  const std::string cluster_ca = ReadAll(fs::path(dir_) / "tls/ca.pem");
  const std::vector<Case> cases = {
      {IssueFromClusterCa("expired", ValidFor(-absl::Hours(9), -absl::Hours(1))),
       "expired.pem: certificate expired at"},
      {IssueFromClusterCa("early", ValidFor(absl::Hours(1), absl::Hours(9))),
       "early.pem: certificate is not valid before"},
      {WriteIssued(*other, cluster_ca, "stranger", ValidFor(-absl::Hours(1), absl::Hours(9))),
       "stranger.pem: certificate is not signed by this CA"},
  };
  for (const Case& c : cases) {
    CommandResult r =
        Kvctl({"--ca", c.files.ca, "--cert", c.files.cert, "--key", c.files.key, "get", "k"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.says));
  }
}

TEST_F(SecurityTest, ARefusedHandshakeIsExplainedOnBothSides) {
  absl::StatusOr<CertAuthority> other = CertAuthority::Create(
      "another CA", absl::Now() - absl::Hours(1), absl::Now() + absl::Hours(9));
  ASSERT_TRUE(other.ok());
  // A client of another cluster: it does not trust the node.
  TlsFiles foreign =
      WriteIssued(*other, other->cert_pem(), "foreign", ValidFor(-absl::Hours(1), absl::Hours(9)));
  CommandResult r = KvctlVia("n1", {"--ca", foreign.ca, "--cert", foreign.cert, "--key",
                                    foreign.key, "--timeout-ms", "2000", "get", "k"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("does not trust the node's certificate"));
  // A client that skips the checks kvctl makes: the node refuses it, and
  // says so in its log.
  absl::StatusOr<IssuedCertificate> stranger =
      other->Issue(ValidFor(-absl::Hours(1), absl::Hours(9)));
  ASSERT_TRUE(stranger.ok());
  const TlsMaterial unchecked{.ca_pem = ReadAll(fs::path(dir_) / "tls/ca.pem"),
                              .cert_pem = stranger->cert_pem,
                              .key_pem = stranger->key_pem};
  grpc::Status refused =
      Send(node_endpoints_[0], ChannelCredentialsFor(&unchecked), ForgedWrite("x.1", 1));
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  absl::Status explained =
      ExplainTlsFailure(absl::UnavailableError(refused.error_message()), /*tls=*/true);
  EXPECT_THAT(explained.message(), HasSubstr("may not accept this client's certificate"));
  EXPECT_TRUE(WaitFor(absl::Seconds(5), [&] {
    return absl::StrContains(ReadAll(fs::path(dir_) / "logs/n1.log"), "certificate verify failed");
  })) << ReadAll(fs::path(dir_) / "logs/n1.log");
}

TEST_F(SecurityTest, ANodeRefusesToStartWithAWrongCertificateOrOpenPlaintext) {
  const std::string config = (fs::path(dir_) / "cluster.textproto").string();
  const std::string data = (fs::path(dir_) / "extra-data").string();
  TlsFiles expired =
      IssueFromClusterCa("n1-expired", ValidFor(-absl::Hours(9), -absl::Hours(1), "node:n1"));
  CommandResult r =
      RunCommand({BinDir() + "/kvnode", "--config", config, "--id", "n1", "--data-dir", data,
                  "--ca", expired.ca, "--cert", expired.cert, "--key", expired.key});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("n1-expired.pem: certificate expired at"));

  const TlsFiles n2 = TlsOf("n2");
  r = RunCommand({BinDir() + "/kvnode", "--config", config, "--id", "n1", "--data-dir", data,
                  "--ca", n2.ca, "--cert", n2.cert, "--key", n2.key});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("the certificate given is that of \"node:n2\""));

  r = RunCommand({BinDir() + "/kvnode", "--config", config, "--id", "n1", "--data-dir", data,
                  "--listen", "0.0.0.0:0"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("refusing to listen on 0.0.0.0:0 without TLS"));
}

}  // namespace
}  // namespace quorumkv::testing
