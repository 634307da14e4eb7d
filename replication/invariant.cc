#include "replication/invariant.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "replication/logging.h"

namespace quorumkv {
namespace {

#if defined(NDEBUG) && !defined(QKV_INVARIANTS_ABORT)
constexpr InvariantMode kDefaultMode = InvariantMode::kReport;
#else
constexpr InvariantMode kDefaultMode = InvariantMode::kAbort;
#endif

std::atomic<InvariantMode> g_mode{kDefaultMode};
std::atomic<uint64_t> g_violations{0};
thread_local std::string t_context;

}  // namespace

void SetInvariantMode(InvariantMode mode) { g_mode.store(mode, std::memory_order_relaxed); }

InvariantMode GetInvariantMode() { return g_mode.load(std::memory_order_relaxed); }

void SetInvariantContext(std::string context) { t_context = std::move(context); }

uint64_t InvariantViolations() { return g_violations.load(std::memory_order_relaxed); }

absl::Status InvariantFailed(absl::string_view condition, absl::string_view message,
                             const char* file, int line) {
  const std::string what =
      absl::StrCat("invariant failed at ", file, ":", line, ": ", message, " (", condition, ")");
  if (GetInvariantMode() == InvariantMode::kAbort) {
    std::fprintf(stderr, "%s%s%s\n", what.c_str(), t_context.empty() ? "" : "; ",
                 t_context.c_str());
    std::fflush(stderr);
    std::abort();
  }
  g_violations.fetch_add(1, std::memory_order_relaxed);
  LogEvent(LogLevel::kError, "invariant_failed",
           {{"at", absl::StrCat(file, ":", line)}, {"msg", message}, {"condition", condition}});
  return absl::InternalError(what);
}

}  // namespace quorumkv
