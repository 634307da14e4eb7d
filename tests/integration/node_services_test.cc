// What a node offers to generic gRPC tooling: health and reflection.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <set>

#include "proto/health.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/reflection.grpc.pb.h"

namespace quorumkv::testing {
namespace {

namespace reflection = ::grpc::reflection::v1alpha;

class NodeServicesTest : public ClusterTest {
 protected:
  void SetUp() override { StartCluster(3, 3); }
};

TEST_F(NodeServicesTest, HealthServiceReportsServing) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(node_endpoints_[0], grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(stub->Check(&context, {}, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(NodeServicesTest, ReflectionListsTheServices) {
  auto stub = reflection::ServerReflection::NewStub(
      grpc::CreateChannel(node_endpoints_[0], grpc::InsecureChannelCredentials()));
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

}  // namespace
}  // namespace quorumkv::testing
