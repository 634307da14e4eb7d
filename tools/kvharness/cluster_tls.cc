#include "tools/kvharness/cluster_tls.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "replication/status_macros.h"
#include "security/cert_authority.h"
#include "security/tls_files.h"

namespace quorumkv {
namespace {

namespace fs = std::filesystem;

absl::Status WritePem(const fs::path& path, const std::string& text, bool secret) {
  std::error_code error;
  fs::remove(path, error);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  }
  fs::permissions(path,
                  secret ? fs::perms::owner_read | fs::perms::owner_write
                         : fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                               fs::perms::others_read,
                  error);
  if (error)
    return absl::InternalError(absl::StrCat("chmod ", path.string(), ": ", error.message()));
  return absl::OkStatus();
}

absl::Status WriteIssued(const CertAuthority& ca, const fs::path& dir, const std::string& name,
                         const CertificateRequest& request) {
  ASSIGN_OR_RETURN(IssuedCertificate issued, ca.Issue(request));
  RETURN_IF_ERROR(WritePem(dir / absl::StrCat(name, ".pem"), issued.cert_pem, false));
  return WritePem(dir / absl::StrCat(name, "-key.pem"), issued.key_pem, true);
}

// The host of "HOST:PORT" or "[V6]:PORT".
std::string HostOf(const std::string& address) {
  if (!address.empty() && address.front() == '[') return address.substr(1, address.find(']') - 1);
  return address.substr(0, address.rfind(':'));
}

}  // namespace

absl::Status WriteClusterTls(const std::string& dir, const v1::ClusterConfig& config,
                             const ClusterTlsOptions& options) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", error.message()));
  // An hour back: a machine whose clock is a little behind the one that
  // made them still accepts them.
  const absl::Time from = absl::Now() - absl::Hours(1);
  const absl::Time until = absl::Now() + options.valid_for;
  ASSIGN_OR_RETURN(CertAuthority ca,
                   CertAuthority::Create("quorumkv cluster CA", from, until + absl::Hours(24)));
  RETURN_IF_ERROR(WritePem(fs::path(dir) / "ca.pem", ca.cert_pem(), false));
  RETURN_IF_ERROR(WritePem(fs::path(dir) / "ca-key.pem", ca.key_pem(), true));
  for (const v1::NodeConfig& node : config.nodes()) {
    std::vector<std::string> hosts = {HostOf(node.address()), "127.0.0.1", "localhost"};
    hosts.insert(hosts.end(), options.extra_hosts.begin(), options.extra_hosts.end());
    std::sort(hosts.begin(), hosts.end());
    hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
    RETURN_IF_ERROR(WriteIssued(ca, dir, node.id(),
                                CertificateRequest{.common_name = NodeIdentity(node.id()),
                                                   .hosts = hosts,
                                                   .not_before = from,
                                                   .not_after = until}));
  }
  RETURN_IF_ERROR(WriteIssued(
      ca, dir, kClientTlsName,
      {.common_name = ClientIdentity("kvctl"), .not_before = from, .not_after = until}));
  return WriteIssued(
      ca, dir, kHarnessTlsName,
      {.common_name = ClientIdentity("kvharness"), .not_before = from, .not_after = until});
}

}  // namespace quorumkv
