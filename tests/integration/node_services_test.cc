// What a node offers to generic gRPC tooling: health and reflection.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "proto/health.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/command.h"
#include "tests/integration/reflection.grpc.pb.h"

namespace quorumkv::testing {
namespace {

namespace reflection = ::grpc::reflection::v1alpha;

class NodeServicesTest : public ClusterTest {
 protected:
  void SetUp() override { StartCluster(3, 3); }
};

TEST_F(NodeServicesTest, HealthServiceReportsServing) {
  auto stub =
      grpc::health::v1::Health::NewStub(grpc::CreateChannel(node_endpoints_[0], CredentialsOf()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(stub->Check(&context, {}, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(NodeServicesTest, ReflectionListsTheServices) {
  auto stub = reflection::ServerReflection::NewStub(
      grpc::CreateChannel(node_endpoints_[0], CredentialsOf()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto stream = stub->ServerReflectionInfo(&context);
  reflection::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  reflection::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::set<std::string> names;
  for (const auto& s : response.list_services_response().service()) names.insert(s.name());
  EXPECT_TRUE(names.count("quorumkv.v1.KvService")) << response.DebugString();
  EXPECT_TRUE(names.count("quorumkv.v1.ReplicaService"));
  EXPECT_TRUE(names.count("grpc.health.v1.Health"));
  while (stream->Read(&response)) {
  }
  EXPECT_TRUE(stream->Finish().ok());
}

// A second node on a node's port refuses to start, and says why. With
// gRPC's default SO_REUSEPORT both would listen and the kernel would split
// the connections between them: clients of one node would reach the other
// (two tests' clusters, a port picked by both, once did that).
TEST_F(NodeServicesTest, ASecondNodeOnATakenPortRefusesToStart) {
  const std::filesystem::path dir(dir_);
  CommandResult second =
      RunCommand({BinDir() + "/kvnode", "--config", (dir / "cluster.textproto").string(), "--id",
                  "n1", "--data-dir", (dir / "second-n1").string(), "--watermark-dir",
                  (dir / "second-n1-watermark").string()},
                 absl::Seconds(10));
  EXPECT_NE(second.exit_code, -1) << "still running after 10 s: it shares n1's port";
  EXPECT_NE(second.exit_code, 0);
  EXPECT_THAT(second.err, ::testing::HasSubstr("cannot listen on")) << second.out;
}

}  // namespace
}  // namespace quorumkv::testing
