#include "tools/kvharness/proxy_daemon.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tools/kvharness/link_proxy.h"
#include "tools/kvharness/process.h"

namespace quorumkv {
namespace {

std::string PathIn(const std::string& dir, const std::string& relative) {
  return (std::filesystem::path(dir) / relative).string();
}

// Applies D/faults/links (none if absent) and records its generation.
absl::Status Reload(const std::string& dir, LinkProxy& proxy) {
  uint64_t generation = 0;
  LinkFaults faults;
  if (absl::StatusOr<std::string> text = ReadTextFile(PathIn(dir, "faults/links")); text.ok()) {
    absl::StatusOr<std::pair<uint64_t, LinkFaults>> parsed = ParseLinkFaults(*text);
    if (!parsed.ok()) return parsed.status();
    generation = parsed->first;
    faults = std::move(parsed->second);
  }
  proxy.SetFaults(faults);
  std::printf("%s faults of generation %llu applied:\n%s", absl::FormatTime(absl::Now()).c_str(),
              static_cast<unsigned long long>(generation),
              FormatLinkFaults(generation, faults).c_str());
  std::fflush(stdout);
  return WriteFileAtomically(PathIn(dir, "proxy/applied"), absl::StrCat(generation, "\n"));
}

}  // namespace

int RunProxyDaemon(const std::string& dir) {
  absl::StatusOr<std::string> text = ReadTextFile(PathIn(dir, "proxy/links"));
  absl::StatusOr<std::vector<ProxiedLink>> links =
      text.ok() ? ParseProxiedLinks(*text)
                : absl::StatusOr<std::vector<ProxiedLink>>(text.status());
  if (!links.ok()) {
    std::fprintf(stderr, "kvharness proxy: %s\n", std::string(links.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<LinkProxy>> proxy =
      LinkProxy::Create(*std::move(links), static_cast<uint64_t>(getpid()));
  if (!proxy.ok()) {
    std::fprintf(stderr, "kvharness proxy: %s\n", std::string(proxy.status().message()).c_str());
    return 1;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  std::printf("kvharness proxy: %zu links\n", (*proxy)->links().size());
  if (absl::Status loaded = Reload(dir, **proxy); !loaded.ok()) {
    std::fprintf(stderr, "kvharness proxy: %s\n", std::string(loaded.message()).c_str());
    return 1;
  }
  for (;;) {
    (*proxy)->RunFor(absl::Seconds(1), signal_fd);
    signalfd_siginfo info;
    while (read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
      if (info.ssi_signo != SIGHUP) {
        std::printf("kvharness proxy: stopped\n");
        return 0;
      }
      if (absl::Status loaded = Reload(dir, **proxy); !loaded.ok()) {
        std::fprintf(stderr, "kvharness proxy: %s\n", std::string(loaded.message()).c_str());
      }
    }
  }
}

}  // namespace quorumkv
