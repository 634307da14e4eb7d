#include "replication/context_check.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "replication/cluster_config.h"
#include "replication/object_codec.h"

namespace quorumkv {
namespace {

// The replies of AskHomesWhatTheySaw; reports after the last. Thread-safe.
class HomesRound {
 public:
  HomesRound(size_t expected, std::function<void(HomesSeen)> done)
      : left_(expected), done_(std::move(done)) {}

  void Arrived(const absl::StatusOr<pb::ReplicaReadResponse>& reply) {
    HomesSeen result;
    {
      absl::MutexLock lock(&mu_);
      if (!reply.ok()) {
        seen_.all_answered = false;
      } else if (reply->found()) {
        absl::StatusOr<VersionVector> context = FromProto(reply->object().context());
        if (context.ok()) {
          seen_.seen.Merge(*context);
        } else {
          seen_.all_answered = false;  // an answer that cannot be read is none
        }
      }
      if (--left_ > 0) return;
      result = std::move(seen_);
    }
    done_(std::move(result));
  }

 private:
  absl::Mutex mu_;
  size_t left_ ABSL_GUARDED_BY(mu_);
  HomesSeen seen_ ABSL_GUARDED_BY(mu_);
  const std::function<void(HomesSeen)> done_;
};

}  // namespace

absl::Status CheckUnseenActors(const pb::ClusterConfig& config, const std::vector<Dot>& unseen) {
  for (const Dot& dot : unseen) {
    const size_t sep = dot.actor.find('.');
    if (sep != std::string::npos && FindNode(config, dot.actor.substr(0, sep)) != nullptr) continue;
    return absl::InvalidArgumentError(
        absl::StrCat("context names actor '", dot.actor,
                     "' of no node of the cluster: pass the context a get of this key returned"));
  }
  return absl::OkStatus();
}

std::vector<Dot> UnseenBy(const VersionVector& seen, const VersionVector& context) {
  std::vector<Dot> unseen;
  for (const auto& [actor, counter] : context.entries()) {
    if (counter > seen.Get(actor)) unseen.push_back(Dot{actor, counter});
  }
  return unseen;
}

void AskHomesWhatTheySaw(Transport* transport, const std::string& self, const std::string& key,
                         const std::vector<std::string>& homes, absl::Time deadline,
                         std::function<void(HomesSeen)> done) {
  std::vector<std::string> others;
  for (const std::string& home : homes) {
    if (home != self) others.push_back(home);
  }
  if (others.empty()) return done(HomesSeen());
  auto round = std::make_shared<HomesRound>(others.size(), std::move(done));
  pb::ReplicaReadRequest request;
  request.set_key(key);
  request.set_from(self);
  for (const std::string& home : others) {
    transport->Read(home, request, deadline,
                    [round](absl::StatusOr<pb::ReplicaReadResponse> reply) {
                      round->Arrived(reply);
                    });
  }
}

}  // namespace quorumkv
