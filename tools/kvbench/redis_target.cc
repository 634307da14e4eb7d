// The redis target: a primary and 2 replicas (Debian's redis-server), all
// with an append-only file. Durable (the default): appendfsync always, and
// every write is followed by WAIT 1 (acked by at least one replica).
// --redis-durable off: appendfsync everysec and no WAIT.
#include <hiredis/hiredis.h>

#include "absl/strings/str_cat.h"
#include "tools/kvbench/servers.h"
#include "tools/kvbench/targets.h"
#include "tools/kvharness/local_cluster.h"

namespace quorumkv::bench {
namespace {

constexpr int kReplicas = 2;
constexpr int kWaitTimeoutMs = 5000;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisClient : public TargetClient {
 public:
  RedisClient(redisContext* context, bool durable) : context_(context), durable_(durable) {}
  ~RedisClient() override { redisFree(context_); }

  absl::Status Read(const std::string& key) override {
    absl::StatusOr<Reply> r = Command({"GET", key});
    return r.ok() ? absl::OkStatus() : r.status();
  }

  absl::Status Update(const std::string& key, const std::string& value) override {
    absl::StatusOr<Reply> r = Command({"SET", key, value});
    if (!r.ok() || !durable_) return r.ok() ? absl::OkStatus() : r.status();
    r = Command({"WAIT", "1", std::to_string(kWaitTimeoutMs)});
    if (!r.ok()) return r.status();
    if ((*r)->type != REDIS_REPLY_INTEGER || (*r)->integer < 1) {
      return absl::DeadlineExceededError("redis: WAIT 1: no replica acked the write in time");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Reply> Command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    Reply r(static_cast<redisReply*>(
        redisCommandArgv(context_, static_cast<int>(args.size()), argv.data(), lengths.data())));
    if (r == nullptr) {
      return absl::UnavailableError(absl::StrCat("redis: ", context_->errstr));
    }
    if (r->type == REDIS_REPLY_ERROR) {
      return absl::InternalError(absl::StrCat("redis: ", std::string(r->str, r->len)));
    }
    return r;
  }

 private:
  redisContext* const context_;
  const bool durable_;
};

absl::StatusOr<std::unique_ptr<RedisClient>> Connect(int port, bool durable) {
  const timeval timeout{.tv_sec = 5, .tv_usec = 0};
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port, timeout);
  if (context == nullptr || context->err) {
    const std::string error = context ? context->errstr : "out of memory";
    if (context) redisFree(context);
    return absl::UnavailableError(
        absl::StrCat("redis: cannot connect to port ", port, ": ", error));
  }
  redisSetTimeout(context, timeout);
  return std::make_unique<RedisClient>(context, durable);
}

class RedisTarget : public Target {
 public:
  explicit RedisTarget(const TargetOptions& options) : durable_(options.redis_durable) {}
  ~RedisTarget() override { Stop(); }

  std::string name() const override { return "redis"; }
  std::string description() const override {
    return durable_ ? "redis 7 primary + 2 replicas, appendfsync always, WAIT 1 after each write"
                    : "redis 7 primary + 2 replicas, appendfsync everysec, no WAIT";
  }

  absl::Status Start(const std::string& dir) override {
    if (absl::Status s = FreshDir(dir); !s.ok()) return s;
    absl::StatusOr<std::vector<int>> ports = PickFreePorts(1 + kReplicas);
    if (!ports.ok()) return ports.status();
    primary_port_ = (*ports)[0];
    for (int i = 0; i <= kReplicas; ++i) {
      const std::string name = i == 0 ? "primary" : absl::StrCat("replica", i);
      const std::string data = absl::StrCat(dir, "/", name);
      if (absl::Status s = FreshDir(data); !s.ok()) return s;
      std::vector<std::string> argv = {"redis-server",
                                       "--port",
                                       std::to_string((*ports)[i]),
                                       "--bind",
                                       "127.0.0.1",
                                       "--dir",
                                       data,
                                       "--appendonly",
                                       "yes",
                                       "--appendfsync",
                                       durable_ ? "always" : "everysec",
                                       "--save",
                                       "",
                                       "--protected-mode",
                                       "no",
                                       "--repl-diskless-sync-delay",
                                       "0"};
      if (i > 0) {
        argv.insert(argv.end(), {"--replicaof", "127.0.0.1", std::to_string(primary_port_)});
      }
      if (absl::Status s = servers_.Spawn(argv, absl::StrCat(dir, "/", name, ".log")); !s.ok()) {
        return s;
      }
    }
    // Ready when both replicas finished their first sync (state=online).
    return WaitReady(servers_, "redis", absl::Seconds(30), [&] {
      absl::StatusOr<std::unique_ptr<RedisClient>> c = Connect(primary_port_, false);
      if (!c.ok()) return false;
      absl::StatusOr<Reply> info = (*c)->Command({"INFO", "replication"});
      if (!info.ok() || (*info)->str == nullptr) return false;
      const std::string text((*info)->str, (*info)->len);
      int online = 0;
      for (size_t at = text.find("state=online"); at != std::string::npos;
           at = text.find("state=online", at + 1)) {
        ++online;
      }
      return online == kReplicas;
    });
  }

  absl::StatusOr<std::unique_ptr<TargetClient>> NewClient() override {
    absl::StatusOr<std::unique_ptr<RedisClient>> c = Connect(primary_port_, durable_);
    if (!c.ok()) return c.status();
    return std::unique_ptr<TargetClient>(std::move(*c));
  }

  void Stop() override { servers_.StopAll(); }
  std::vector<pid_t> Pids() const override { return servers_.pids(); }

 private:
  const bool durable_;
  Servers servers_;
  int primary_port_ = 0;
};

}  // namespace

std::unique_ptr<Target> MakeRedisTarget(const TargetOptions& options) {
  return std::make_unique<RedisTarget>(options);
}

}  // namespace quorumkv::bench
