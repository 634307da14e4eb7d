// The etcd target: a 3-member etcd cluster (Debian's etcd-server), each
// member fsyncing its raft log, driven through the v3 gRPC KV API with
// linearizable reads (etcd's default).
#include <grpcpp/grpcpp.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/kvbench/etcd_kv.grpc.pb.h"
#include "tools/kvbench/grpc_async_client.h"
#include "tools/kvbench/servers.h"
#include "tools/kvbench/targets.h"
#include "tools/kvharness/local_cluster.h"

namespace quorumkv::bench {
namespace {

constexpr int kMembers = 3;
constexpr absl::Duration kTimeout = absl::Seconds(5);

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + kTimeout));
}

class EtcdClient : public TargetClient {
 public:
  explicit EtcdClient(std::shared_ptr<grpc::Channel> channel)
      : stub_(etcdserverpb::KV::NewStub(channel)) {}

  absl::Status Read(const std::string& key) override {
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    etcdserverpb::RangeResponse response;
    grpc::ClientContext context;
    SetDeadline(context);
    return StatusFromGrpc("etcd", stub_->Range(&context, request, &response));
  }

  absl::Status Update(const std::string& key, const std::string& value) override {
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    etcdserverpb::PutResponse response;
    grpc::ClientContext context;
    SetDeadline(context);
    return StatusFromGrpc("etcd", stub_->Put(&context, request, &response));
  }

 private:
  std::unique_ptr<etcdserverpb::KV::Stub> stub_;
};

// EtcdClient's operations for every worker, on one completion queue:
// worker w sends to member w mod 3.
class EtcdAsyncClient : public GrpcAsyncClient {
 public:
  explicit EtcdAsyncClient(const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
    for (const auto& channel : channels) stubs_.push_back(etcdserverpb::KV::NewStub(channel));
  }

  void Read(int worker, const std::string& key, Done done) override {
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    etcdserverpb::KV::Stub* stub = StubOf(worker);
    Call<etcdserverpb::RangeResponse>(
        kTimeout,
        [&](grpc::ClientContext* context, grpc::CompletionQueue* queue) {
          return stub->PrepareAsyncRange(context, request, queue);
        },
        [done = std::move(done)](const grpc::Status& status, etcdserverpb::RangeResponse&) {
          done(StatusFromGrpc("etcd", status));
        });
  }

  void Update(int worker, const std::string& key, const std::string& value, Done done) override {
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    etcdserverpb::KV::Stub* stub = StubOf(worker);
    Call<etcdserverpb::PutResponse>(
        kTimeout,
        [&](grpc::ClientContext* context, grpc::CompletionQueue* queue) {
          return stub->PrepareAsyncPut(context, request, queue);
        },
        [done = std::move(done)](const grpc::Status& status, etcdserverpb::PutResponse&) {
          done(StatusFromGrpc("etcd", status));
        });
  }

 private:
  etcdserverpb::KV::Stub* StubOf(int worker) { return stubs_[worker % stubs_.size()].get(); }

  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs_;
};

class EtcdTarget : public Target {
 public:
  ~EtcdTarget() override { Stop(); }

  std::string name() const override { return "etcd"; }
  std::string description() const override {
    return "3-member etcd 3.4 cluster (raft, fsync before ack), linearizable reads";
  }

  absl::Status Start(const std::string& dir) override {
    if (absl::Status s = FreshDir(dir); !s.ok()) return s;
    absl::StatusOr<std::vector<int>> ports = PickFreePorts(2 * kMembers);
    if (!ports.ok()) return ports.status();
    std::vector<std::string> peers;
    for (int i = 0; i < kMembers; ++i) {
      peers.push_back(absl::StrCat("m", i, "=http://127.0.0.1:", (*ports)[kMembers + i]));
    }
    for (int i = 0; i < kMembers; ++i) {
      const std::string client_url = absl::StrCat("http://127.0.0.1:", (*ports)[i]);
      const std::string peer_url = absl::StrCat("http://127.0.0.1:", (*ports)[kMembers + i]);
      const std::string name = absl::StrCat("m", i);
      absl::Status s = servers_.Spawn({"etcd",
                                       "--name",
                                       name,
                                       "--data-dir",
                                       absl::StrCat(dir, "/", name),
                                       "--listen-client-urls",
                                       client_url,
                                       "--advertise-client-urls",
                                       client_url,
                                       "--listen-peer-urls",
                                       peer_url,
                                       "--initial-advertise-peer-urls",
                                       peer_url,
                                       "--initial-cluster",
                                       absl::StrJoin(peers, ","),
                                       "--initial-cluster-state",
                                       "new",
                                       "--initial-cluster-token",
                                       "kvbench",
                                       "--logger",
                                       "zap",
                                       "--log-level",
                                       "warn"},
                                      absl::StrCat(dir, "/", name, ".log"));
      if (!s.ok()) return s;
      channels_.push_back(BenchChannel(absl::StrCat("127.0.0.1:", (*ports)[i])));
    }
    // Ready when a linearizable write goes through (a leader is elected).
    std::unique_ptr<TargetClient> probe(new EtcdClient(channels_[0]));
    return WaitReady(servers_, "etcd", absl::Seconds(30),
                     [&] { return probe->Update("kvbench-ready", "1").ok(); });
  }

  absl::StatusOr<std::unique_ptr<TargetClient>> NewClient() override {
    // Clients spread over the members, as etcd's client balancer does.
    const size_t i = next_++ % channels_.size();
    return std::unique_ptr<TargetClient>(new EtcdClient(channels_[i]));
  }

  absl::StatusOr<std::unique_ptr<AsyncTargetClient>> NewAsyncClient(int) override {
    return std::unique_ptr<AsyncTargetClient>(new EtcdAsyncClient(channels_));
  }

  void Stop() override {
    channels_.clear();
    servers_.StopAll();
  }

  std::vector<pid_t> Pids() const override { return servers_.pids(); }

 private:
  Servers servers_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::atomic<size_t> next_{0};
};

}  // namespace

std::unique_ptr<Target> MakeEtcdTarget() { return std::make_unique<EtcdTarget>(); }

}  // namespace quorumkv::bench
