#include "server/health_service.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>

#include "gtest/gtest.h"

namespace quorumkv {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class HealthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = Health::NewStub(grpc::CreateChannel(Address(port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    service_.EndWatches();
    if (server_ != nullptr) server_->Shutdown();
  }
  static std::string Address(int port) { return "127.0.0.1:" + std::to_string(port); }

  static void Deadline(grpc::ClientContext* context) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }

  grpc::Status Check(const std::string& name, HealthCheckResponse* response) {
    grpc::ClientContext context;
    Deadline(&context);
    HealthCheckRequest request;
    request.set_service(name);
    return stub_->Check(&context, request, response);
  }

  HealthServiceImpl service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Health::Stub> stub_;
};

TEST_F(HealthServiceTest, NotServingFromTheStartUntilSetServing) {
  HealthCheckResponse response;
  ASSERT_TRUE(Check("", &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  service_.SetServing(true);
  ASSERT_TRUE(Check("quorumkv.v1.KvService", &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  service_.SetServing(false);
  ASSERT_TRUE(Check("", &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
}

TEST_F(HealthServiceTest, UnknownServiceIsNotFound) {
  HealthCheckResponse response;
  EXPECT_EQ(Check("no.such.Service", &response).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(HealthServiceTest, WatchSeesTheStatusThenEachChangeUntilTheWatchesEnd) {
  grpc::ClientContext context;
  Deadline(&context);
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> watch =
      stub_->Watch(&context, HealthCheckRequest());
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  service_.SetServing(true);
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  service_.EndWatches();
  EXPECT_FALSE(watch->Read(&response));
  EXPECT_TRUE(watch->Finish().ok());
}

TEST_F(HealthServiceTest, WatchOfAnUnknownServiceSaysSo) {
  grpc::ClientContext context;
  Deadline(&context);
  HealthCheckRequest request;
  request.set_service("no.such.Service");
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> watch = stub_->Watch(&context, request);
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVICE_UNKNOWN);
  context.TryCancel();
}

}  // namespace
}  // namespace quorumkv
