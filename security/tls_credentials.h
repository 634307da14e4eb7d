// gRPC credentials from checked certificates (tls_files.h), the identity
// of a call's caller, and a readable account of a failed handshake.
//
// Mutual TLS throughout: a node's server requires a certificate from the
// cluster's CA of every caller, and every channel presents one and checks
// the server's against the CA and the address dialled (the certificate's
// subjectAltName entries).
#ifndef QUORUMKV_SECURITY_TLS_CREDENTIALS_H_
#define QUORUMKV_SECURITY_TLS_CREDENTIALS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "security/tls_files.h"

namespace quorumkv {

// Channel credentials: `material` when set, plaintext when null.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(const TlsMaterial* material);
// Channel arguments for reaching a node: a refused connection is tried
// again within 1 s (100 ms at first), and a connection attempt, TCP and TLS
// handshakes together, may take up to 5 s. gRPC takes
// GRPC_ARG_MIN_RECONNECT_BACKOFF_MS as that connect timeout: set to 100 ms
// it cut every handshake slower than that (a loaded machine) and started it
// over, so a slow handshake never completed.
grpc::ChannelArguments ReconnectingChannelArguments();
// Server credentials: `material` when set (callers must present a
// certificate of its CA), plaintext when null.
std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(const TlsMaterial* material);

// The identity (common name) of the certificate the caller of `context`
// presented; nullopt when the call came over plaintext.
std::optional<std::string> CallerIdentity(const grpc::ServerContext& context);

// When `status` tells of a failed TLS handshake (or of a plaintext client
// meeting a TLS server), `status` with a hint appended that says so in
// words and what to check; otherwise `status` unchanged. `tls`: whether
// this side used TLS.
absl::Status ExplainTlsFailure(const absl::Status& status, bool tls);

}  // namespace quorumkv

#endif  // QUORUMKV_SECURITY_TLS_CREDENTIALS_H_
