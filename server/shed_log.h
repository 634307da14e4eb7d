// The log of shed requests: one episode per bound (metrics.h's ShedBound),
//   event=shedding episode=begin bound=client_bytes error="overloaded: ..."
// then one end line with how many were shed, once 10 s pass without one.
#ifndef QUORUMKV_SERVER_SHED_LOG_H_
#define QUORUMKV_SERVER_SHED_LOG_H_

#include <array>
#include <memory>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "replication/log_episode.h"
#include "server/metrics.h"

namespace quorumkv {

// Thread-safe.
class ShedLog {
 public:
  static constexpr absl::Duration kQuiet = absl::Seconds(10);

  ShedLog();
  void Shed(ShedBound bound, absl::Time now, absl::string_view error);
  // Ends the episodes quiet for kQuiet; a few atomic loads when none is open.
  void EndIfQuiet(absl::Time now);

 private:
  std::array<std::unique_ptr<LogEpisode>, kShedBounds> episodes_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_SERVER_SHED_LOG_H_
