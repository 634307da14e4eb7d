// The quorumkv target: 3 kvnode processes (kvharness's LocalCluster), N=3,
// R=2, W=2, through KvClient.
#include <algorithm>
#include <atomic>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/kv_client.h"
#include "client/session_read.h"
#include "replication/hlc.h"
#include "security/tls_credentials.h"
#include "tools/common/output.h"
#include "tools/kvbench/direct_load.h"
#include "tools/kvbench/grpc_async_client.h"
#include "tools/kvbench/targets.h"
#include "tools/kvharness/local_cluster.h"

namespace quorumkv::bench {
namespace {

// The context of a worker's last read or write of each key (up to
// kMaxContexts keys), so that, when the cluster keeps siblings, an update
// replaces what the worker saw, as an application doing read-modify-write
// would.
class KeyContexts {
 public:
  // The key's context, or "" (a blind write).
  std::string Find(const std::string& key) const {
    auto it = contexts_.find(key);
    return it == contexts_.end() ? std::string() : it->second;
  }
  void Remember(const std::string& key, const std::string& context) {
    if (contexts_.size() >= kMaxContexts) contexts_.clear();
    contexts_[key] = context;
  }

 private:
  static constexpr size_t kMaxContexts = 4096;
  std::unordered_map<std::string, std::string> contexts_;
};

// Every key was loaded before the run: a read that finds none failed.
absl::Status CheckFound(const std::string& key, const v1::GetResponse& response) {
  if (response.found()) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat("read of ", key, ": not found"));
}

// Session reads of a run (target quorumkv-session), counted by every worker.
struct SessionCounts {
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> escalated{0};  // answered after more than one read
  std::atomic<uint64_t> refused{0};    // a session guarantee not satisfiable
};

class QuorumKvClient : public TargetClient {
 public:
  // `counts`: every operation of this worker in one session, its reads
  // counted there; null: no session.
  QuorumKvClient(std::shared_ptr<KvClient> client, SessionCounts* counts)
      : client_(std::move(client)),
        counts_(counts),
        session_(counts != nullptr ? std::make_optional<Session>() : std::nullopt) {}

  absl::Status Read(const std::string& key) override {
    absl::StatusOr<v1::GetResponse> r = client_->Get(key, {}, session());
    if (counts_ != nullptr) {
      ++counts_->reads;
      if (r.ok() && r->session().attempts() > 1) ++counts_->escalated;
      if (IsSessionGuaranteeFailure(r.status())) ++counts_->refused;
    }
    if (!r.ok()) return r.status();
    if (absl::Status found = CheckFound(key, *r); !found.ok()) return found;
    contexts_.Remember(key, r->context());
    return absl::OkStatus();
  }

  absl::Status Update(const std::string& key, const std::string& value) override {
    absl::StatusOr<v1::PutResponse> r =
        client_->Put(key, value, WriteOptions{.context = contexts_.Find(key)}, session());
    if (!r.ok()) return r.status();
    contexts_.Remember(key, r->context());
    return absl::OkStatus();
  }

 private:
  Session* session() { return session_ ? &*session_ : nullptr; }

  std::shared_ptr<KvClient> client_;  // shared by the workers of one coordinator
  KeyContexts contexts_;
  SessionCounts* const counts_;
  std::optional<Session> session_;
};

// QuorumKvClient's operations for every worker, on one completion queue:
// worker w sends to node w mod 3, and keeps its own contexts.
class QuorumKvAsyncClient : public GrpcAsyncClient {
 public:
  QuorumKvAsyncClient(const std::vector<std::string>& endpoints, int workers,
                      const std::shared_ptr<grpc::ChannelCredentials>& credentials)
      : contexts_(workers) {
    for (const std::string& endpoint : endpoints) {
      stubs_.push_back(v1::KvService::NewStub(BenchChannel(endpoint, credentials)));
    }
  }

  void Read(int worker, const std::string& key, Done done) override {
    v1::GetRequest request;
    request.set_key(key);
    v1::KvService::Stub* stub = StubOf(worker);
    Call<v1::GetResponse>(
        kTimeout,
        [&](grpc::ClientContext* context, grpc::CompletionQueue* queue) {
          return stub->PrepareAsyncGet(context, request, queue);
        },
        [this, worker, key, done = std::move(done)](const grpc::Status& status,
                                                    v1::GetResponse& response) {
          if (!status.ok()) return done(StatusFromGrpc("quorumkv", status));
          if (absl::Status found = CheckFound(key, response); !found.ok()) return done(found);
          contexts_[worker].Remember(key, response.context());
          done(absl::OkStatus());
        });
  }

  void Update(int worker, const std::string& key, const std::string& value, Done done) override {
    v1::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    request.set_context(contexts_[worker].Find(key));
    v1::KvService::Stub* stub = StubOf(worker);
    Call<v1::PutResponse>(
        kTimeout,
        [&](grpc::ClientContext* context, grpc::CompletionQueue* queue) {
          return stub->PrepareAsyncPut(context, request, queue);
        },
        [this, worker, key, done = std::move(done)](const grpc::Status& status,
                                                    v1::PutResponse& response) {
          if (!status.ok()) return done(StatusFromGrpc("quorumkv", status));
          contexts_[worker].Remember(key, response.context());
          done(absl::OkStatus());
        });
  }

 private:
  static constexpr absl::Duration kTimeout = absl::Seconds(5);  // KvClient's default

  v1::KvService::Stub* StubOf(int worker) { return stubs_[worker % stubs_.size()].get(); }

  std::vector<std::unique_ptr<v1::KvService::Stub>> stubs_;
  std::vector<KeyContexts> contexts_;  // per worker
};

class QuorumKvTarget : public Target {
 public:
  QuorumKvTarget(const TargetOptions& options, std::string bin_dir)
      : options_(options), bin_dir_(std::move(bin_dir)) {}
  ~QuorumKvTarget() override { Stop(); }

  std::string name() const override {
    if (options_.kv_client == TargetOptions::KvClientKind::kLibrary) return "quorumkv-client";
    if (options_.kv_client == TargetOptions::KvClientKind::kSession) return "quorumkv-session";
    if (options_.kv_repair_during_run) return "quorumkv-repairing";
    if (options_.kv_missing_idle) return "quorumkv-missing";
    if (options_.kv_insecure) return "quorumkv-plaintext";
    return options_.kv_proxies ? "quorumkv-proxied" : "quorumkv";
  }
  std::string description() const override {
    return absl::StrCat("3 kvnode, N=3 R=2 W=2, ",
                        options_.kv_sync ? "fsync before ack" : "no fsync (--kv-sync off)",
                        options_.kv_lww ? ", last-writer-wins updates" : ", siblings kept",
                        options_.kv_insecure ? ", plaintext" : ", mutual TLS",
                        options_.kv_proxies ? ", every link through kvharness's proxy" : "",
                        options_.kv_repair_during_run
                            ? absl::StrFormat(", n3 missing %.0f%% of the keys and repairing them "
                                              "by anti-entropy during the run",
                                              options_.kv_repair_missing * 100)
                        : options_.kv_missing_idle
                            ? absl::StrFormat(", n3 missing %.0f%% of the keys, anti-entropy off",
                                              options_.kv_repair_missing * 100)
                            : "");
  }

  absl::Status BeforeRun() override {
    session_counts_.reads = 0;
    session_counts_.escalated = 0;
    session_counts_.refused = 0;
    if (!options_.kv_repair_during_run) return absl::OkStatus();
    if (!loaded_directly_) {
      return absl::FailedPreconditionError("quorumkv-repairing needs --load direct");
    }
    absl::StatusOr<std::unique_ptr<KvClient>> client = LastNodeClient();
    if (!client.ok()) return client.status();
    v1::RepairRequest ask;
    ask.set_start(true);
    absl::StatusOr<v1::RepairResponse> r = (*client)->Repair(ask);
    if (!r.ok()) return r.status();
    repair_round_ = r->round();
    run_start_ = absl::Now();
    return absl::OkStatus();
  }

  std::string AfterRun() override {
    if (options_.kv_client == TargetOptions::KvClientKind::kSession) {
      const uint64_t reads = session_counts_.reads;
      return absl::StrFormat(
          "session reads: %d, of which %d escalated (%.2f%%) and %d refused (not satisfiable)",
          reads, session_counts_.escalated.load(),
          reads == 0 ? 0.0 : 100.0 * session_counts_.escalated / reads,
          session_counts_.refused.load());
    }
    if (!options_.kv_repair_during_run) return "";
    absl::StatusOr<std::unique_ptr<KvClient>> client = LastNodeClient();
    if (!client.ok()) return client.status().ToString();
    absl::StatusOr<v1::RepairResponse> r = (*client)->Repair(v1::RepairRequest());
    if (!r.ok()) return r.status().ToString();
    const std::string when = r->rounds_finished() >= repair_round_
                                 ? "ended before the run did"
                                 : absl::StrFormat("still running when the run ended (%.1f s)",
                                                   absl::ToDoubleSeconds(absl::Now() - run_start_));
    return absl::StrCat("anti-entropy round of n3 ", when, ": ", r->keys_repaired(), " merges of ",
                        r->keys_differing(), " keys differing so far, ", r->exchanges_done(), "/",
                        r->exchanges_total(), " pairs compared");
  }

  absl::Status Start(const std::string& dir) override {
    cluster_ = std::make_unique<LocalCluster>(dir, bin_dir_ + "/kvnode");
    absl::Status up = cluster_->Up(UpOptions{.nodes = 3,
                                             .replicas = 3,
                                             .sync_writes = options_.kv_sync,
                                             .last_writer_wins = options_.kv_lww,
                                             .proxies = options_.kv_proxies,
                                             .config = options_.kv_config,
                                             .insecure = options_.kv_insecure});
    if (!up.ok()) return up;
    absl::StatusOr<std::string> endpoints = cluster_->Endpoints();
    if (!endpoints.ok()) return endpoints.status();
    endpoints_ = *endpoints;
    return absl::OkStatus();
  }

  // Stops the nodes, writes each one's storage, and starts them again.
  absl::Status LoadDirectly(uint64_t keys, const std::function<std::string(uint64_t)>& value_of,
                            std::atomic<uint64_t>* written) override {
    absl::StatusOr<v1::ClusterConfig> config = cluster_->Config();
    if (!config.ok()) return config.status();
    // Every node gets every key: right only when every node is home to all.
    if (static_cast<int>(config->replication_factor()) != config->nodes_size()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "direct load needs N equal to the node count (N=", config->replication_factor(), ", ",
          config->nodes_size(), " nodes)"));
    }
    if (absl::Status down = cluster_->Down(); !down.ok()) return down;
    // One timestamp for every replica: replicas that differed in it would
    // be repaired by every read.
    const uint64_t hlc = MakeHlc(static_cast<uint64_t>(absl::ToUnixMillis(absl::Now())), 0);
    // The keys the last node misses (--repair-missing): spread evenly.
    const uint64_t missing_per_million =
        static_cast<uint64_t>(options_.kv_repair_missing * 1'000'000);
    auto missing = [missing_per_million](uint64_t i) {
      return (i * 0x9E3779B97F4A7C15ull >> 32) % 1'000'000 < missing_per_million;
    };
    for (const v1::NodeConfig& node : config->nodes()) {
      const std::string db = absl::StrCat(cluster_->dir(), "/nodes/", node.id(), "/db");
      const bool last = &node == &*config->nodes().rbegin();
      absl::Status s = LoadNodeStorage(db, cluster_->WatermarkDir(), node.id(), keys, value_of,
                                       last && missing_per_million > 0 ? SkipKey(missing) : nullptr,
                                       hlc, written);
      if (!s.ok()) return absl::Status(s.code(), absl::StrCat(node.id(), ": ", s.message()));
    }
    for (const v1::NodeConfig& node : config->nodes()) {
      if (absl::Status up = cluster_->Restart(node.id()); !up.ok()) return up;
    }
    loaded_directly_ = true;
    return absl::OkStatus();
  }

  // A round of the last node (the one a --repair-missing load left behind).
  absl::StatusOr<RepairMeasure> MeasureRepairRound() override {
    absl::StatusOr<std::unique_ptr<KvClient>> client = LastNodeClient();
    if (!client.ok()) return client.status();
    v1::RepairRequest ask;
    ask.set_start(true);
    const absl::Time start = absl::Now();
    absl::StatusOr<v1::RepairResponse> r = (*client)->Repair(ask);
    if (!r.ok()) return r.status();
    const uint64_t round = r->round();
    const absl::Time give_up = start + absl::Hours(1);
    while (r->rounds_finished() < round) {
      if (g_interrupted || absl::Now() > give_up) {
        return absl::DeadlineExceededError("the repair round did not end");
      }
      absl::SleepFor(absl::Milliseconds(20));  // polling the node's round
      r = (*client)->Repair(v1::RepairRequest());
      if (!r.ok()) return r.status();
    }
    return RepairMeasure{.elapsed = absl::Now() - start,
                         .exchanges = r->exchanges_done(),
                         .hashes_compared = r->hashes_compared(),
                         .keys_differing = r->keys_differing(),
                         .keys_repaired = r->keys_repaired(),
                         .bytes_received = r->bytes_received(),
                         .bytes_sent = r->bytes_sent(),
                         .complete = r->complete()};
  }

  // KvClient sends to its first endpoint while it answers: one KvClient
  // per node, each with the list rotated to start at its node, shared by
  // the workers in turn (as etcd's target shares one channel per member).
  absl::StatusOr<std::unique_ptr<TargetClient>> NewClient() override {
    std::vector<std::string> endpoints = SplitEndpoints(endpoints_);
    const size_t node = next_++ % endpoints.size();
    if (shared_.size() < endpoints.size()) shared_.resize(endpoints.size());
    if (shared_[node] == nullptr) {
      std::rotate(endpoints.begin(), endpoints.begin() + node, endpoints.end());
      absl::StatusOr<std::unique_ptr<KvClient>> client = KvClient::Connect(
          KvClientOptions{.endpoints = std::move(endpoints), .tls = cluster_->ClientTls()});
      if (!client.ok()) return client.status();
      shared_[node] = std::move(*client);
    }
    const bool in_session = options_.kv_client == TargetOptions::KvClientKind::kSession;
    return std::unique_ptr<TargetClient>(
        new QuorumKvClient(shared_[node], in_session ? &session_counts_ : nullptr));
  }

  absl::StatusOr<std::unique_ptr<AsyncTargetClient>> NewAsyncClient(int workers) override {
    if (options_.kv_client != TargetOptions::KvClientKind::kAsync) {
      return absl::UnimplementedError(absl::StrCat(name(), " runs the client library"));
    }
    absl::StatusOr<TlsMaterial> tls;
    if (cluster_->Tls()) {
      tls = LoadTlsMaterial(cluster_->ClientTls());
      if (!tls.ok()) return tls.status();
    }
    return std::unique_ptr<AsyncTargetClient>(new QuorumKvAsyncClient(
        SplitEndpoints(endpoints_), workers, ChannelCredentialsFor(tls.ok() ? &*tls : nullptr)));
  }

  void Stop() override {
    shared_.clear();
    if (cluster_ != nullptr) cluster_->Down().IgnoreError();  // best effort at teardown
    cluster_.reset();
  }

  std::vector<pid_t> Pids() const override {
    std::vector<pid_t> pids;
    if (cluster_ == nullptr) return pids;
    absl::StatusOr<std::vector<NodeState>> nodes = cluster_->Status();
    if (!nodes.ok()) return pids;
    for (const NodeState& n : *nodes) {
      if (n.pid > 0) pids.push_back(n.pid);
    }
    if (std::optional<pid_t> proxy = cluster_->ProxyPid()) pids.push_back(*proxy);
    return pids;
  }

 private:
  // n3, the node a --repair-missing or quorumkv-repairing load leaves behind.
  absl::StatusOr<std::unique_ptr<KvClient>> LastNodeClient() const {
    return KvClient::Connect(KvClientOptions{.endpoints = {SplitEndpoints(endpoints_).back()},
                                             .tls = cluster_->ClientTls()});
  }

  const TargetOptions options_;
  const std::string bin_dir_;
  std::unique_ptr<LocalCluster> cluster_;
  std::string endpoints_;
  size_t next_ = 0;
  std::vector<std::shared_ptr<KvClient>> shared_;
  SessionCounts session_counts_;
  bool loaded_directly_ = false;
  uint64_t repair_round_ = 0;
  absl::Time run_start_;
};

}  // namespace

std::unique_ptr<Target> MakeQuorumKvTarget(const TargetOptions& options,
                                           const std::string& bin_dir) {
  return std::make_unique<QuorumKvTarget>(options, bin_dir);
}

}  // namespace quorumkv::bench
