#include "tests/sim/sim_world.h"

#include "absl/strings/str_format.h"

namespace quorumkv::sim {

SimWorld::SimWorld(uint64_t seed, bool trace)
    : clock_(absl::FromUnixSeconds(1'800'000'000)),
      start_(clock_.Now()),
      rng_(seed),
      trace_(trace) {}

void SimWorld::After(absl::Duration delay, std::function<void()> action) {
  events_.push(Event{clock_.Now() + delay, next_seq_++, std::move(action)});
}

uint64_t SimWorld::RunUntil(absl::Time until) {
  uint64_t ran = 0;
  while (!events_.empty() && events_.top().at <= until) {
    // Moved out before running: the action may schedule more events.
    Event event = std::move(const_cast<Event&>(events_.top()));
    events_.pop();
    if (event.at > clock_.Now()) clock_.Set(event.at);
    event.action();
    ++ran;
  }
  if (clock_.Now() < until && until != absl::InfiniteFuture()) clock_.Set(until);
  return ran;
}

bool SimWorld::Chance(double p) {
  // 53 random bits as a double in [0, 1), by a formula every platform shares.
  return p > 0 && static_cast<double>(rng_() >> 11) * 0x1.0p-53 < p;
}

uint64_t SimWorld::Uniform(uint64_t lo, uint64_t hi) {
  // A fixed formula rather than std::uniform_int_distribution, whose
  // algorithm differs between standard libraries: seeds replay anywhere.
  return lo + rng_() % (hi - lo + 1);
}

absl::Duration SimWorld::UniformDuration(absl::Duration lo, absl::Duration hi) {
  const int64_t us =
      static_cast<int64_t>(Uniform(absl::ToInt64Microseconds(lo), absl::ToInt64Microseconds(hi)));
  return absl::Microseconds(us);
}

double SimWorld::ElapsedMs() { return absl::ToDoubleMilliseconds(clock_.Now() - start_); }

void SimWorld::Trace(absl::string_view line) {
  if (!trace_) return;
  trace_lines_.push_back(absl::StrFormat("%10.3f ms  %s", ElapsedMs(), line));
}

}  // namespace quorumkv::sim
