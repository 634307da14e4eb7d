#include "tools/kvharness/netns.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace quorumkv {

absl::Status RunTool(const std::vector<std::string>& argv) {
  int err[2];
  if (pipe2(err, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclose(&actions, err[0]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(err[1]);
  std::string output;
  char buffer[512];
  for (ssize_t n; (n = read(err[0], buffer, sizeof buffer)) > 0;) output.append(buffer, n);
  close(err[0]);
  if (spawned != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run ", argv[0], " (is it installed?)"));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(absl::StrJoin(argv, " "), ": ", output));
}

NetnsNetwork::NetnsNetwork(const std::string& dir, std::vector<std::string> nodes)
    : nodes_(std::move(nodes)) {
  std::error_code ec;
  const std::filesystem::path canonical = std::filesystem::weakly_canonical(dir, ec);
  const size_t hash = std::hash<std::string>()(ec ? dir : canonical.string());
  tag_ = absl::StrFormat("%06x", hash & 0xffffff);
  subnet_ = static_cast<int>((hash >> 24) % 200) + 20;
}

absl::Status NetnsNetwork::CheckAllowed() {
  if (geteuid() != 0) {
    return absl::FailedPreconditionError(
        "--netns needs root (it creates network namespaces and iptables rules)");
  }
  return absl::OkStatus();
}

std::string NetnsNetwork::Namespace(const std::string& node) const {
  return absl::StrCat("qkv", tag_, "-", node);
}

std::string NetnsNetwork::AddressOf(const std::string& node) const {
  const auto it = std::find(nodes_.begin(), nodes_.end(), node);
  return absl::StrCat("10.213.", subnet_, ".", 1 + (it - nodes_.begin()));
}

std::string NetnsNetwork::HostAddress() const { return absl::StrCat("10.213.", subnet_, ".254"); }
std::string NetnsNetwork::Bridge() const { return absl::StrCat("qkvbr", tag_); }
std::string NetnsNetwork::HostVeth(const std::string& node) const {
  return absl::StrCat("qv", tag_, node);
}

absl::Status NetnsNetwork::Create() const {
  Destroy();
  const std::string bridge = Bridge();
  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {"ip", "link", "add", bridge, "type", "bridge"},
           {"ip", "addr", "add", HostAddress() + "/24", "dev", bridge},
           {"ip", "link", "set", bridge, "up"}}) {
    if (absl::Status s = RunTool(cmd); !s.ok()) return s;
  }
  for (const std::string& node : nodes_) {
    const std::string ns = Namespace(node);
    for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
             {"ip", "netns", "add", ns},
             {"ip", "link", "add", HostVeth(node), "type", "veth", "peer", "name", "eth0", "netns",
              ns},
             {"ip", "link", "set", HostVeth(node), "master", bridge, "up"},
             {"ip", "-n", ns, "addr", "add", AddressOf(node) + "/24", "dev", "eth0"},
             {"ip", "-n", ns, "link", "set", "eth0", "up"},
             {"ip", "-n", ns, "link", "set", "lo", "up"}}) {
      if (absl::Status s = RunTool(cmd); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

void NetnsNetwork::Destroy() const {
  for (const std::string& node : nodes_) {
    RunTool({"ip", "netns", "del", Namespace(node)}).IgnoreError();  // its veth goes with it
  }
  RunTool({"ip", "link", "del", Bridge()}).IgnoreError();
}

void NetnsNetwork::AddRules(
    const std::string& from, const std::string& to, const LinkFault& fault,
    std::vector<std::pair<std::string, std::vector<std::string>>>* rules) const {
  if (!fault.drop && !fault.reset) return;
  std::vector<std::string> action = {"-j", "DROP"};
  if (!fault.drop) action = {"-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"};
  auto expand = [&](const std::string& end) {
    return end == "*" ? nodes_ : std::vector<std::string>{end};
  };
  for (const std::string& f : expand(from)) {
    for (const std::string& t : expand(to)) {
      if (f == t) continue;
      std::vector<std::string> rule;
      std::string ns;
      if (t == kClientEndpoint) {  // leaving the node for the harness
        ns = Namespace(f);
        rule = {"-A", "OUTPUT", "-d", HostAddress()};
      } else {  // arriving at node t
        ns = Namespace(t);
        rule = {"-A", "INPUT", "-s", f == kClientEndpoint ? HostAddress() : AddressOf(f)};
      }
      rule.insert(rule.end(), action.begin(), action.end());
      rules->emplace_back(ns, std::move(rule));
    }
  }
}

absl::Status NetnsNetwork::Apply(const LinkFaults& faults) const {
  std::vector<std::pair<std::string, std::vector<std::string>>> rules;
  for (const auto& [link, fault] : faults) {
    if (fault.delay > absl::ZeroDuration()) {
      return absl::FailedPreconditionError(
          "--netns clusters cannot delay links (tc netem is not available here); "
          "use a cluster with proxies (kvharness up without --netns)");
    }
    AddRules(link.first, link.second, fault, &rules);
  }
  for (const std::string& node : nodes_) {
    for (const char* chain : {"INPUT", "OUTPUT"}) {
      if (absl::Status s =
              RunTool({"ip", "netns", "exec", Namespace(node), "iptables", "-F", chain});
          !s.ok()) {
        return s;
      }
    }
  }
  for (auto& [ns, rule] : rules) {
    std::vector<std::string> cmd = {"ip", "netns", "exec", ns, "iptables"};
    cmd.insert(cmd.end(), rule.begin(), rule.end());
    if (absl::Status s = RunTool(cmd); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace quorumkv
