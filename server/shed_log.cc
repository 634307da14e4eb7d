#include "server/shed_log.h"

namespace quorumkv {

ShedLog::ShedLog() {
  for (auto& episode : episodes_) {
    episode = std::make_unique<LogEpisode>(LogLevel::kWarning, "shedding", kQuiet);
  }
}

void ShedLog::Shed(ShedBound bound, absl::Time now, absl::string_view error) {
  episodes_[static_cast<size_t>(bound)]->Occurred(
      now, {{"bound", ShedBoundName(bound)}, {"error", error}});
}

void ShedLog::EndIfQuiet(absl::Time now) {
  for (auto& episode : episodes_) {
    if (episode->open()) episode->EndIfQuiet(now);
  }
}

}  // namespace quorumkv
