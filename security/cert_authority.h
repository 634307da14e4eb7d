// A certificate authority for one cluster: makes a CA and issues node and
// client certificates under it (EC P-256 keys, SHA-256 signatures), the
// way kvharness sets up DIR/tls and `kvharness certs` a deployment's. Not
// a general CA: no revocation, no intermediate CAs.
//
// Thread-compatible.
#ifndef QUORUMKV_SECURITY_CERT_AUTHORITY_H_
#define QUORUMKV_SECURITY_CERT_AUTHORITY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "security/openssl_util.h"

namespace quorumkv {

struct IssuedCertificate {
  std::string cert_pem;
  std::string key_pem;
};

struct CertificateRequest {
  std::string common_name;  // the identity (tls_files.h): "node:n1", "client:kvctl"
  // Addresses the holder serves on: IP addresses and DNS names, written as
  // subjectAltName entries that clients check the server against. Empty
  // for a client.
  std::vector<std::string> hosts;
  absl::Time not_before;
  absl::Time not_after;
};

class CertAuthority {
 public:
  // A new self-signed CA named `name`, valid over [not_before, not_after].
  static absl::StatusOr<CertAuthority> Create(const std::string& name, absl::Time not_before,
                                              absl::Time not_after);
  // The CA of an earlier Create, from its certificate and key.
  static absl::StatusOr<CertAuthority> Load(const std::string& cert_pem,
                                            const std::string& key_pem);

  // A key pair and a certificate for it signed by this CA, usable by
  // servers and clients both (a node is both).
  absl::StatusOr<IssuedCertificate> Issue(const CertificateRequest& request) const;

  std::string cert_pem() const;
  std::string key_pem() const;

 private:
  CertAuthority(openssl::X509Ptr cert, openssl::PkeyPtr key)
      : cert_(std::move(cert)), key_(std::move(key)) {}

  openssl::X509Ptr cert_;
  openssl::PkeyPtr key_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_SECURITY_CERT_AUTHORITY_H_
