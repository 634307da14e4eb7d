// Whether a node serves: its gRPC health check, once (IsServing, for
// kvharness status) or waited for (WaitServing, for up and restart).
#ifndef QUORUMKV_TOOLS_KVHARNESS_READINESS_H_
#define QUORUMKV_TOOLS_KVHARNESS_READINESS_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace quorumkv {

// True if `address` (host:port) answers the gRPC health check with SERVING.
bool IsServing(const std::string& address, absl::Duration timeout,
               const std::shared_ptr<grpc::ChannelCredentials>& credentials);

// Waits until `address` answers the health check with SERVING: OK then;
// DEADLINE_EXCEEDED at `deadline`, with the last answer; or the error of
// `alive`, which is asked between attempts (a node that exited ends the
// wait). One channel serves every attempt, so a TLS handshake slower than
// an attempt is made once and not started over, and each attempt may take
// twice as long as the one before (200 ms up to 5 s): a node that answers,
// however slowly on a loaded machine, is found ready.
absl::Status WaitServing(const std::string& address,
                         const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                         absl::Time deadline, const std::function<absl::Status()>& alive);

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_READINESS_H_
