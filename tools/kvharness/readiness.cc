#include "tools/kvharness/readiness.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "proto/health.grpc.pb.h"
#include "replication/status_macros.h"
#include "security/tls_credentials.h"

namespace quorumkv {

bool IsServing(const std::string& address, absl::Duration timeout,
               const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
  auto channel = grpc::CreateChannel(address, credentials);
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
  return status.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

namespace {

const char* ChannelStateName(grpc_connectivity_state state) {
  switch (state) {
    case GRPC_CHANNEL_IDLE:
      return "idle";
    case GRPC_CHANNEL_CONNECTING:
      return "connecting";
    case GRPC_CHANNEL_READY:
      return "ready";
    case GRPC_CHANNEL_TRANSIENT_FAILURE:
      return "failing";
    case GRPC_CHANNEL_SHUTDOWN:
      return "shut down";
  }
  return "unknown";
}

}  // namespace

absl::Status WaitServing(const std::string& address,
                         const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                         absl::Time deadline, const std::function<absl::Status()>& alive) {
  const std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(address, credentials, ReconnectingChannelArguments());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  absl::Duration attempt = absl::Milliseconds(200);
  std::optional<grpc::Status> last;  // none before the first check
  for (;;) {
    RETURN_IF_ERROR(alive());
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          address, " did not answer a health check with SERVING; last answer: ",
          !last        ? "none"
          : last->ok() ? "NOT_SERVING"
                       : last->error_message(),
          " (connection ", ChannelStateName(channel->GetState(/*try_to_connect=*/false)), ")"));
    }
    // Waits for the connection, which also keeps it going: gRPC makes
    // progress on a connection only while a call waits on it.
    grpc::ClientContext context;
    context.set_wait_for_ready(true);
    context.set_deadline(absl::ToChronoTime(std::min(now + attempt, deadline)));
    grpc::health::v1::HealthCheckResponse response;
    last = stub->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
    if (last->ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return absl::OkStatus();
    }
    if (last->error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      attempt = std::min(2 * attempt, absl::Seconds(5));
    } else {
      absl::SleepFor(absl::Milliseconds(20));  // answered, but not SERVING yet
    }
  }
}

}  // namespace quorumkv
