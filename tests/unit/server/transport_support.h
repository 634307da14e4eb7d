// What the GrpcTransport tests share: a two-node config, and a completion
// queue with a thread polling it.
#ifndef QUORUMKV_TESTS_UNIT_SERVER_TRANSPORT_SUPPORT_H_
#define QUORUMKV_TESTS_UNIT_SERVER_TRANSPORT_SUPPORT_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "proto/config.pb.h"
#include "replication/cluster_config.h"
#include "server/completion_queue.h"

namespace quorumkv {

// n1, the transport's own node (never dialled), and n2 at `n2_address`.
inline absl::StatusOr<v1::ClusterConfig> TwoNodeConfig(const std::string& n2_address) {
  return ParseClusterConfig(
      absl::StrCat("nodes { id: 'n1' address: '127.0.0.1:1' } nodes { id: 'n2' address: '",
                   n2_address, "' } replication_factor: 2"));
}

// A completion queue polled by a thread of its own until destroyed (shut
// down, then drained). Destroy it after the transport that uses it.
class PolledQueue {
 public:
  PolledQueue() : thread_([this] { RunCompletionQueue(&queue_); }) {}
  ~PolledQueue() {
    queue_.Shutdown();
    thread_.join();
  }
  grpc::CompletionQueue* get() { return &queue_; }

 private:
  grpc::CompletionQueue queue_;
  std::thread thread_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_TESTS_UNIT_SERVER_TRANSPORT_SUPPORT_H_
