// security/: who may talk to a node. This file: the certificate files a
// node or a client presents, and the checks made on them before any
// connection, so that a wrong file fails at start with a sentence naming
// it, not later as a handshake error.
//
// Identities are the certificate's common name: "node:<id>" for a node of
// the cluster config, "client:<name>" for a client (kvctl, an application,
// kvharness). cert_authority.h issues such certificates; peer_identity.h
// reads them off a call.
//
// Thread-compatible values; the functions are thread-safe.
#ifndef QUORUMKV_SECURITY_TLS_FILES_H_
#define QUORUMKV_SECURITY_TLS_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace quorumkv {

inline constexpr absl::string_view kNodeIdentityPrefix = "node:";
inline constexpr absl::string_view kClientIdentityPrefix = "client:";

// "node:<id>"; "client:<name>".
std::string NodeIdentity(absl::string_view node_id);
std::string ClientIdentity(absl::string_view name);

// Paths of PEM files: the cluster's CA certificate, this party's
// certificate and its private key. All empty: no TLS.
struct TlsFiles {
  std::string ca;
  std::string cert;
  std::string key;

  bool empty() const { return ca.empty() && cert.empty() && key.empty(); }
};

// The files of `name` in a directory laid out as kvharness writes DIR/tls:
// ca.pem, <name>.pem, <name>-key.pem.
TlsFiles TlsFilesIn(absl::string_view dir, absl::string_view name);

// Certificates read and checked; what gRPC's credentials are built from.
struct TlsMaterial {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  std::string identity;  // the certificate's common name
  absl::Time not_after;  // when the certificate expires
};

// Reads `files` and checks them at time `now`: each is set and readable,
// the certificates and key parse, the key is the certificate's, and the
// certificate chains to the CA and is valid at `now`. INVALID_ARGUMENT
// naming the file and the reason otherwise ("... expired at ...", "... not
// valid before ...", "... is not signed by the CA in ...").
absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsFiles& files, absl::Time now = absl::Now());

// OK if the PEM certificate `cert_pem` chains to the CA `ca_pem` and is
// valid at `now`; else INVALID_ARGUMENT with OpenSSL's reason, in words.
absl::Status VerifyCertificate(absl::string_view ca_pem, absl::string_view cert_pem,
                               absl::Time now);

// Whether `address` ("HOST:PORT", "[V6]:PORT") is on the loopback
// interface: localhost, 127.0.0.0/8 or ::1.
bool IsLoopbackAddress(absl::string_view address);

}  // namespace quorumkv

#endif  // QUORUMKV_SECURITY_TLS_FILES_H_
