// Certificates issued by CertAuthority, the checks LoadTlsMaterial makes,
// and what each side of a real gRPC connection sees when a certificate is
// wrong: a health check over mutual TLS, with a good client certificate and
// with each kind of bad one.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security/cert_authority.h"
#include "security/tls_credentials.h"
#include "security/tls_files.h"
#include "server/health_service.h"
#include "tools/kvharness/process.h"

namespace quorumkv {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::Now();

CertificateRequest Valid(const std::string& name, std::vector<std::string> hosts = {}) {
  return CertificateRequest{.common_name = name,
                            .hosts = std::move(hosts),
                            .not_before = kNow - absl::Hours(1),
                            .not_after = kNow + absl::Hours(24)};
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / absl::StrCat("qkv-tls-", getpid());
    std::filesystem::create_directories(dir_);
    absl::StatusOr<CertAuthority> ca =
        CertAuthority::Create("quorumkv test CA", kNow - absl::Hours(1), kNow + absl::Hours(48));
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_.emplace(*std::move(ca));
    Write("ca.pem", ca_->cert_pem());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(std::filesystem::path(dir_) / name) << text;
  }
  // Issues `request` as DIR/<file>.pem and <file>-key.pem; their TlsFiles.
  TlsFiles IssueAs(const std::string& file, const CertificateRequest& request,
                   const CertAuthority* by = nullptr) {
    absl::StatusOr<IssuedCertificate> issued = (by != nullptr ? *by : *ca_).Issue(request);
    EXPECT_TRUE(issued.ok()) << issued.status();
    Write(file + ".pem", issued->cert_pem);
    Write(file + "-key.pem", issued->key_pem);
    return TlsFilesIn(dir_, file);
  }
  TlsMaterial Load(const TlsFiles& files) {
    absl::StatusOr<TlsMaterial> material = LoadTlsMaterial(files, kNow);
    EXPECT_TRUE(material.ok()) << material.status();
    return material.ok() ? *material : TlsMaterial{};
  }

  std::string dir_;
  std::optional<CertAuthority> ca_;
};

TEST_F(TlsTest, AnIssuedCertificateLoadsWithItsIdentity) {
  TlsMaterial material = Load(IssueAs("n1", Valid("node:n1", {"127.0.0.1", "localhost"})));
  EXPECT_EQ(material.identity, "node:n1");
  EXPECT_GT(material.not_after, kNow);
}

TEST_F(TlsTest, LoadingNamesTheFileAndWhatIsWrongWithIt) {
  CertificateRequest expired = Valid("client:old");
  expired.not_before = kNow - absl::Hours(48);
  expired.not_after = kNow - absl::Hours(1);
  absl::StatusOr<TlsMaterial> loaded = LoadTlsMaterial(IssueAs("old", expired), kNow);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(loaded.status().message(), HasSubstr("old.pem: certificate expired at"));

  CertificateRequest early = Valid("client:early");
  early.not_before = kNow + absl::Hours(1);
  loaded = LoadTlsMaterial(IssueAs("early", early), kNow);
  EXPECT_THAT(loaded.status().message(), HasSubstr("early.pem: certificate is not valid before"));

  absl::StatusOr<CertAuthority> other =
      CertAuthority::Create("another CA", kNow - absl::Hours(1), kNow + absl::Hours(48));
  ASSERT_TRUE(other.ok());
  loaded = LoadTlsMaterial(IssueAs("stranger", Valid("client:stranger"), &*other), kNow);
  EXPECT_THAT(loaded.status().message(),
              HasSubstr("stranger.pem: certificate is not signed by this CA"));

  TlsFiles mixed = IssueAs("a", Valid("client:a"));
  mixed.key = IssueAs("b", Valid("client:b")).key;
  loaded = LoadTlsMaterial(mixed, kNow);
  EXPECT_THAT(loaded.status().message(), HasSubstr("b-key.pem is not the private key of"));

  TlsFiles missing = TlsFilesIn(dir_, "nobody");
  EXPECT_THAT(LoadTlsMaterial(missing, kNow).status().message(), HasSubstr("cannot read --cert"));
  TlsFiles no_key = TlsFilesIn(dir_, "a");
  no_key.key.clear();
  EXPECT_THAT(LoadTlsMaterial(no_key, kNow).status().message(), HasSubstr("TLS needs --key too"));
  TlsFiles directory = TlsFilesIn(dir_, "a");
  directory.ca = dir_;
  EXPECT_THAT(LoadTlsMaterial(directory, kNow).status().message(), HasSubstr("is a directory"));
}

// A health service over mutual TLS on a loopback port, as a node serves.
class TlsConnectionTest : public TlsTest {
 protected:
  void SetUp() override {
    TlsTest::SetUp();
    server_material_ = Load(IssueAs("server", Valid("node:n1", {"127.0.0.1"})));
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", ServerCredentialsFor(&server_material_), &port_);
    builder.RegisterService(&health_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    health_.SetServing(true);
  }
  void TearDown() override {
    health_.EndWatches();
    server_->Shutdown();
    TlsTest::TearDown();
  }

  // A health check with `material` (null: plaintext); its status, with the
  // explanation a client adds.
  absl::Status CheckWith(const TlsMaterial* material) {
    auto channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), ChannelCredentialsFor(material));
    auto stub = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = stub->Check(&context, {}, &response);
    return ExplainTlsFailure(
        absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message()),
        material != nullptr);
  }
  // A certificate OpenSSL would refuse to load as ours, bypassing the check.
  TlsMaterial Unchecked(const TlsFiles& files) {
    return TlsMaterial{.ca_pem = ReadTextFile(files.ca).value_or(""),
                       .cert_pem = ReadTextFile(files.cert).value_or(""),
                       .key_pem = ReadTextFile(files.key).value_or("")};
  }

  TlsMaterial server_material_;
  HealthServiceImpl health_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(TlsConnectionTest, AClientWithACertificateOfTheClusterConnects) {
  TlsMaterial client = Load(IssueAs("client", Valid("client:kvctl")));
  EXPECT_TRUE(CheckWith(&client).ok()) << CheckWith(&client);
}

TEST_F(TlsConnectionTest, EachRefusedCertificateGetsAnErrorThatSaysSo) {
  CertificateRequest expired = Valid("client:old");
  expired.not_before = kNow - absl::Hours(48);
  expired.not_after = kNow - absl::Hours(1);
  TlsMaterial old = Unchecked(IssueAs("old", expired));
  absl::Status status = CheckWith(&old);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("may not accept this client's certificate"));

  absl::StatusOr<CertAuthority> other =
      CertAuthority::Create("another CA", kNow - absl::Hours(1), kNow + absl::Hours(48));
  ASSERT_TRUE(other.ok());
  TlsMaterial stranger = Unchecked(IssueAs("stranger", Valid("client:x"), &*other));
  status = CheckWith(&stranger);
  EXPECT_THAT(status.message(), HasSubstr("may not accept this client's certificate"));

  // No certificate at all.
  TlsMaterial anonymous{.ca_pem = server_material_.ca_pem};
  status = CheckWith(&anonymous);
  EXPECT_THAT(status.message(), HasSubstr("may not accept this client's certificate"));

  // A client that trusts another CA: the node's certificate is not trusted.
  Write("other-ca.pem", other->cert_pem());
  TlsFiles distrustful = IssueAs("d", Valid("client:d"), &*other);
  distrustful.ca = (std::filesystem::path(dir_) / "other-ca.pem").string();
  TlsMaterial wrong_ca = Load(distrustful);
  status = CheckWith(&wrong_ca);
  EXPECT_THAT(status.message(), HasSubstr("does not trust the node's certificate"));

  status = CheckWith(nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("it may require TLS"));
}

TEST_F(TlsConnectionTest, TheServerChecksTheAddressTheClientDialled) {
  // The node's certificate names 127.0.0.1; dialled as localhost it does
  // not match.
  TlsMaterial client = Load(IssueAs("client", Valid("client:kvctl")));
  auto channel =
      grpc::CreateChannel(absl::StrCat("localhost:", port_), ChannelCredentialsFor(&client));
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_FALSE(stub->Check(&context, {}, &response).ok());
}

}  // namespace
}  // namespace quorumkv
