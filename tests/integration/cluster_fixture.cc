#include "tests/integration/cluster_fixture.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "security/tls_credentials.h"

namespace quorumkv::testing {

void ClusterTest::StartCluster(int nodes, int replicas, const std::string& config, bool tls) {
  dir_ = std::filesystem::path(::testing::TempDir()) /
         absl::StrCat("qkv-", ::testing::UnitTest::GetInstance()->current_test_info()->name(), "-",
                      getpid());
  std::filesystem::remove_all(dir_);
  std::vector<std::string> args = {
      "up",       "--nodes", std::to_string(nodes), "--replicas", std::to_string(replicas),
      "--config", config};
  if (!tls) args.push_back("--insecure");
  // Longer than up's own 60 s readiness deadline, so that its error shows.
  CommandResult up = Harness(args, absl::Seconds(150));
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  std::ifstream in(std::filesystem::path(dir_) / "endpoints");
  std::getline(in, endpoints_);
  endpoints_ = std::string(absl::StripAsciiWhitespace(endpoints_));
  node_endpoints_ = absl::StrSplit(endpoints_, ',');
  ASSERT_EQ(node_endpoints_.size(), static_cast<size_t>(nodes));
  // Explicit either way: kvctl would otherwise take .kvharness/tls of the
  // directory it runs in.
  if (tls) {
    setenv("KVCTL_TLS_DIR", (std::filesystem::path(dir_) / "tls").c_str(), 1);
    unsetenv("KVCTL_INSECURE");
  } else {
    unsetenv("KVCTL_TLS_DIR");
    setenv("KVCTL_INSECURE", "1", 1);
  }
}

TlsFiles ClusterTest::TlsOf(const std::string& name) const {
  return TlsFilesIn((std::filesystem::path(dir_) / "tls").string(), name);
}

std::shared_ptr<grpc::ChannelCredentials> ClusterTest::CredentialsOf(
    const std::string& name) const {
  absl::StatusOr<TlsMaterial> material = LoadTlsMaterial(TlsOf(name));
  EXPECT_TRUE(material.ok()) << material.status();
  return material.ok() ? ChannelCredentialsFor(&*material) : grpc::InsecureChannelCredentials();
}

void ClusterTest::TearDown() {
  if (dir_.empty()) return;
  CommandResult down = Harness({"down"});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  if (!HasFailure()) std::filesystem::remove_all(dir_);
}

std::string ClusterTest::NodeLog(const std::string& node) const {
  std::ifstream in(std::filesystem::path(dir_) / "logs" / (node + ".log"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> ClusterTest::NodeLogLines(const std::string& node,
                                                   const std::vector<std::string>& parts) const {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(NodeLog(node), '\n')) {
    bool all = true;
    for (const std::string& part : parts) all = all && absl::StrContains(line, part);
    if (all) lines.emplace_back(line);
  }
  return lines;
}

CommandResult ClusterTest::Harness(std::vector<std::string> args, absl::Duration timeout) {
  args.insert(args.begin(), {BinDir() + "/kvharness", "--dir", dir_});
  return RunCommand(args, timeout);
}

CommandResult ClusterTest::Kvctl(std::vector<std::string> args) {
  args.insert(args.begin(), {BinDir() + "/kvctl", "--cluster", endpoints_});
  return RunCommand(args);
}

CommandResult ClusterTest::KvctlVia(const std::string& node, std::vector<std::string> args) {
  const int index = std::stoi(node.substr(1)) - 1;
  args.insert(args.begin(), {BinDir() + "/kvctl", "--cluster", node_endpoints_.at(index)});
  return RunCommand(args);
}

nlohmann::json ClusterTest::KvctlJson(std::vector<std::string> args) {
  args.push_back("--json");
  CommandResult r = Kvctl(args);
  nlohmann::json parsed = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << r.out << r.err;
  return parsed;
}

bool ClusterTest::WaitFor(absl::Duration timeout, const std::function<bool()>& condition) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
  }
  return false;
}

std::vector<std::string> LiveValues(const nlohmann::json& get) {
  std::vector<std::string> values;
  if (!get.contains("siblings")) return values;
  for (const auto& s : get["siblings"]) {
    if (!s["tombstone"].get<bool>()) values.push_back(s["value"].get<std::string>());
  }
  return values;
}

}  // namespace quorumkv::testing
