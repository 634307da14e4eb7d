#include "tools/kvbench/target.h"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tools/kvbench/targets.h"

namespace quorumkv::bench {

absl::StatusOr<std::unique_ptr<Target>> MakeTarget(const std::string& name,
                                                   const TargetOptions& options,
                                                   const std::string& bin_dir) {
  if (name == "quorumkv") return MakeQuorumKvTarget(options, bin_dir);
  if (name == "quorumkv-proxied") {
    TargetOptions proxied = options;
    proxied.kv_proxies = true;
    return MakeQuorumKvTarget(proxied, bin_dir);
  }
  if (name == "quorumkv-plaintext") {
    TargetOptions plaintext = options;
    plaintext.kv_insecure = true;
    return MakeQuorumKvTarget(plaintext, bin_dir);
  }
  if (name == "quorumkv-repairing") {
    TargetOptions repairing = options;
    repairing.kv_repair_during_run = true;
    repairing.kv_repair_missing = kRepairingMissing;
    return MakeQuorumKvTarget(repairing, bin_dir);
  }
  if (name == "quorumkv-missing") {
    // quorumkv-repairing's cluster with anti-entropy idle: its baseline.
    TargetOptions missing = options;
    missing.kv_repair_missing = kRepairingMissing;
    missing.kv_missing_idle = true;
    missing.kv_config.set_anti_entropy_interval_ms(0);
    return MakeQuorumKvTarget(missing, bin_dir);
  }
  if (name == "quorumkv-client" || name == "quorumkv-session") {
    TargetOptions library = options;
    library.kv_client = name == "quorumkv-client" ? TargetOptions::KvClientKind::kLibrary
                                                  : TargetOptions::KvClientKind::kSession;
    return MakeQuorumKvTarget(library, bin_dir);
  }
  if (name == "etcd") return MakeEtcdTarget();
  if (name == "redis") return MakeRedisTarget(options);
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown target '", name,
      "': choose from quorumkv, quorumkv-plaintext, quorumkv-proxied, quorumkv-repairing, "
      "quorumkv-missing, quorumkv-client, quorumkv-session, etcd, redis"));
}

uint64_t StatusBytes(pid_t pid, absl::string_view field) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, field) || line.size() <= field.size() ||
        line[field.size()] != ':') {
      continue;
    }
    std::istringstream fields(line.substr(field.size() + 1));
    uint64_t kib = 0;
    fields >> kib;
    return kib * 1024;
  }
  return 0;
}

uint64_t RssBytes(pid_t pid) { return StatusBytes(pid, "VmRSS"); }
uint64_t AnonRssBytes(pid_t pid) { return StatusBytes(pid, "RssAnon"); }

double CpuSeconds(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command (which may hold spaces): state is field 3,
  // utime and stime fields 14 and 15.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace quorumkv::bench
