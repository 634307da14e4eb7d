#include "server/node_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "replication/cluster_config.h"
#include "replication/logging.h"
#include "replication/status_macros.h"
#include "security/tls_credentials.h"
#include "server/metrics_page.h"
#include "server/thread_priority.h"

namespace quorumkv {

absl::StatusOr<v1::ClusterConfig> LoadClusterConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read cluster config ", path));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<v1::ClusterConfig> config = ParseClusterConfig(text.str());
  if (!config.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

absl::Status CheckTransportSecurity(const NodeServerOptions& options) {
  if (options.tls.has_value()) {
    const std::string expected = NodeIdentity(options.node_id);
    if (options.tls->identity != expected) {
      return absl::InvalidArgumentError(absl::StrCat("the certificate given is that of \"",
                                                     options.tls->identity,
                                                     "\", not of this node (\"", expected, "\")"));
    }
    return absl::OkStatus();
  }
  if (!options.insecure && !IsLoopbackAddress(options.listen_address)) {
    return absl::FailedPreconditionError(
        absl::StrCat("refusing to listen on ", options.listen_address,
                     " without TLS: anyone who reaches it could read and write every key and forge "
                     "replica traffic. Give --ca, --cert and --key, or --insecure to accept that"));
  }
  return absl::OkStatus();
}

NodeServer::NodeServer(NodeServerOptions options)
    : options_(std::move(options)),
      clock_(options_.clock_skew),
      writer_pool_("writer", 1, options_.max_queued_requests),
      replica_pool_("replica", options_.replica_threads, options_.max_queued_requests),
      repair_pool_("repair", 1, kExchangesPerPeer * options_.config.nodes_size(), kBackgroundNice) {
  context_.clock = &clock_;
  context_.metrics = &metrics_;
  context_.max_client_bytes = options_.config.max_request_bytes_in_flight();
  context_.replica_pool = &replica_pool_;
  context_.repair_pool = &repair_pool_;
  context_.delays = &delays_;
  context_.allow_fault_injection = options_.allow_fault_injection;
  if (options_.tls.has_value()) {
    context_.callers = CallerPolicy(options_.config, options_.fault_injectors);
  }
  if (options_.allow_fault_injection) context_.system_clock = &clock_;
}

absl::StatusOr<std::unique_ptr<NodeServer>> NodeServer::Start(NodeServerOptions options) {
  const v1::NodeConfig* self = FindNode(options.config, options.node_id);
  if (self == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("node id ", options.node_id, " is not in the cluster config"));
  }
  if (options.queue_threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("queue_threads is ", options.queue_threads, "; at least 1 is needed"));
  }
  if (options.listen_address.empty()) options.listen_address = self->address();
  RETURN_IF_ERROR(CheckTransportSecurity(options));
  std::unique_ptr<NodeServer> server(new NodeServer(std::move(options)));
  RETURN_IF_ERROR(server->Listen());
  absl::Status opened = server->OpenStorage();
  if (!opened.ok()) {
    server->Shutdown(absl::ZeroDuration());
    return opened;
  }
  if (!server->options_.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> metrics = MetricsEndpoint::Start(
        server->options_.metrics_listen, [s = server.get()] { return s->RenderMetrics(); });
    if (metrics.ok()) {
      server->metrics_endpoint_ = *std::move(metrics);
    } else {
      // The node serves without them rather than stay down for a port.
      LogEvent(
          LogLevel::kError, "metrics_not_served",
          {{"listen", server->options_.metrics_listen}, {"error", metrics.status().message()}});
    }
  }
  server->health_service_.SetServing(true);
  server->ticker_ = std::thread([s = server.get()] { s->RunTicks(&ReplicaNode::Tick); });
  server->anti_entropy_ticker_ = std::thread([s = server.get()] {
    // Niced, as the pool that answers exchanges: client requests first.
    if (absl::Status lowered = LowerThisThreadsPriority(kBackgroundNice); !lowered.ok()) {
      LogEvent(LogLevel::kWarning, "thread_priority_not_lowered",
               {{"thread", "anti-entropy"}, {"error", lowered.message()}});
    }
    s->RunTicks(&ReplicaNode::AntiEntropyTick);
  });
  return server;
}

absl::Status NodeServer::Listen() {
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen_address, ServerCredentialsFor(TlsOrNull()), &port_);
  // No SO_REUSEPORT (gRPC sets it by default): with it a second server on
  // the same port starts too and the kernel splits the connections between
  // the two, so a node started on another's port would silently answer for
  // it. Without it the second one fails here.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  const uint64_t max_message = MaxMessageBytes(options_.config);
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<uint64_t>(max_message, INT32_MAX)));
  builder.SetMaxSendMessageSize(static_cast<int>(std::min<uint64_t>(max_message, INT32_MAX)));
  // Requests gRPC has received but not yet handed to a handler are held
  // in its buffers, a stream window each: bound the streams a connection
  // may have open (a client past it waits on its side), and give gRPC's
  // memory a quota. With the admission bound (services.h) a node holds
  // max_request_bytes_in_flight of requests in handling, plus at most
  // kMaxStreamsPerConnection stream windows per client connection
  // (docs/operations.md, "Memory").
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, kMaxStreamsPerConnection);
  grpc::ResourceQuota quota("kvnode");
  // Twice the admission bound, at least 64 MiB. (A bound set below the
  // largest replica message leaves gRPC short of room for one under load:
  // it is refused, and retried, or the exchange fails and the round
  // retries it.)
  const uint64_t bound =
      std::min<uint64_t>(options_.config.max_request_bytes_in_flight(), 1ull << 40);
  quota.Resize(static_cast<size_t>(std::max<uint64_t>(2 * bound, 64ull << 20)));
  builder.SetResourceQuota(quota);
  builder.RegisterService(&kv_service_);
  builder.RegisterService(&replica_service_);
  builder.RegisterService(&admin_service_);
  builder.RegisterService(&health_service_);
  for (int i = 0; i < options_.queue_threads; ++i) queues_.push_back(builder.AddCompletionQueue());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen_address, " (address in use?)"));
  }
  for (const std::unique_ptr<grpc::ServerCompletionQueue>& queue : queues_) {
    kv_service_.ServeOn(queue.get());
    replica_service_.ServeOn(queue.get());
    admin_service_.ServeOn(queue.get());
    queue_threads_.emplace_back([q = queue.get()] { RunCompletionQueue(q); });
  }
  return absl::OkStatus();
}

absl::Status NodeServer::OpenStorage() {
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data directory ", options_.data_dir, ": ", ec.message()));
  }
  ASSIGN_OR_RETURN(engine_, RocksDbEngine::Open(RocksDbEngineOptions{
                                .path = (std::filesystem::path(options_.data_dir) / "db").string(),
                                .watermark_dir = options_.watermark_dir}));
  engine_->SetSyncedWriteObserver(
      [this](size_t entries, absl::Duration latency) { metrics_.SyncedWrite(entries, latency); });
  Engine* store_engine = engine_.get();
  if (options_.allow_fault_injection) {
    disk_ = std::make_unique<FaultInjectionEngine>(engine_.get());
    store_engine = disk_.get();
    context_.disk = disk_.get();
  }
  logged_engine_ = std::make_unique<LoggedEngine>(store_engine, &clock_);
  store_engine = logged_engine_.get();
  ASSIGN_OR_RETURN(
      store_, EngineReplicaStore::Open(
                  store_engine, ReplicaStoreOptions{.node_id = options_.node_id,
                                                    .sync_writes = options_.config.sync_writes()}));
  std::vector<grpc::CompletionQueue*> queues;
  for (const std::unique_ptr<grpc::ServerCompletionQueue>& queue : queues_) {
    queues.push_back(queue.get());
  }
  transport_ =
      std::make_unique<GrpcTransport>(options_.node_id, options_.config, &clock_, std::move(queues),
                                      ChannelCredentialsFor(TlsOrNull()));
  // Puts run on the queues' threads up to the local write; the write
  // groups, which block on fsync, on the writer thread.
  auto run_blocking = [this](std::function<void()> work) {
    return writer_pool_.Submit(std::move(work)).ok();
  };
  ASSIGN_OR_RETURN(node_,
                   ReplicaNode::Create(ReplicaNodeOptions{.self = options_.node_id,
                                                          .config = options_.config,
                                                          .run_blocking = run_blocking},
                                       store_.get(), store_->hints(), transport_.get(), &clock_));
  context_.node.store(node_.get());
  return absl::OkStatus();
}

void NodeServer::RunTicks(void (ReplicaNode::*tick)()) {
  absl::MutexLock lock(&tick_mu_);
  auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(tick_mu_) { return !ticking_; };
  while (!tick_mu_.AwaitWithTimeout(absl::Condition(&stopped), kTickInterval)) {
    tick_mu_.Unlock();
    (node_.get()->*tick)();
    context_.shed_log.EndIfQuiet(clock_.Now());
    if (logged_engine_ != nullptr) logged_engine_->EndIfQuiet();
    tick_mu_.Lock();
  }
}

std::string NodeServer::RenderMetrics() {
  return RenderMetricsPage(MetricsSources{
      .node_id = options_.node_id,
      .metrics = &metrics_,
      .node = context_.node.load(),
      .storage = engine_ != nullptr ? engine_->Properties() : std::map<std::string, uint64_t>{},
      .client_requests_in_flight = context_.client_requests.load(),
      .client_request_bytes_in_flight = context_.client_bytes.load(),
      .replica_batches_in_flight = context_.replica_batches.load()});
}

void NodeServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  metrics_endpoint_.reset();
  {
    absl::MutexLock lock(&tick_mu_);
    ticking_ = false;
  }
  if (ticker_.joinable()) ticker_.join();
  if (anti_entropy_ticker_.joinable()) anti_entropy_ticker_.join();
  if (server_) {
    health_service_.SetServing(false);
    health_service_.EndWatches();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  }
  // A call that still reached a handler (gRPC waits for the calls in
  // flight, so none should) is answered UNAVAILABLE, never by the node.
  context_.node.store(nullptr);
  // In this order: no task or callback can reach a destroyed node, store
  // or engine, and none finds its completion queue shut down. Tasks still
  // queued run to the end first; the transport's calls end (cancelled)
  // before the queues are drained.
  delays_.StopAndRunAll();
  writer_pool_.StopAndJoin();
  replica_pool_.StopAndJoin();
  repair_pool_.StopAndJoin();
  transport_.reset();
  for (const std::unique_ptr<grpc::ServerCompletionQueue>& queue : queues_) queue->Shutdown();
  for (std::thread& thread : queue_threads_) thread.join();
  queue_threads_.clear();
  node_.reset();
  if (store_) {
    absl::Status closed = store_->CloseCleanly();
    if (!closed.ok())
      LogEvent(LogLevel::kError, "clean_close_failed", {{"error", closed.message()}});
  }
  store_.reset();
  context_.disk = nullptr;
  logged_engine_.reset();
  disk_.reset();
  engine_.reset();
}

NodeServer::~NodeServer() { Shutdown(); }

}  // namespace quorumkv
