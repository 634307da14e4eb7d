#include "tools/kvbench/grpc_async_client.h"

namespace quorumkv::bench {

std::shared_ptr<grpc::Channel> BenchChannel(const std::string& address,
                                            std::shared_ptr<grpc::ChannelCredentials> credentials) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  return grpc::CreateCustomChannel(address, credentials, args);
}

GrpcAsyncClient::~GrpcAsyncClient() {
  queue_.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (queue_.Next(&tag, &ok)) delete static_cast<Tag*>(tag);
}

void GrpcAsyncClient::At(absl::Time when, std::function<void()> fn) {
  auto* timer = new Timer(std::move(fn));
  timer->alarm.Set(&queue_, absl::ToChronoTime(when), timer);
  ++pending_;
}

void GrpcAsyncClient::Run() {
  void* tag = nullptr;
  bool ok = false;
  while (pending_ > 0 && queue_.Next(&tag, &ok)) {
    --pending_;
    std::unique_ptr<Tag> done(static_cast<Tag*>(tag));
    done->Complete();
  }
}

absl::Status StatusFromGrpc(const std::string& target, const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(target, ": ", status.error_message()));
}

}  // namespace quorumkv::bench
