#include "security/tls_credentials.h"

#include <grpc/grpc_security_constants.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace quorumkv {

grpc::ChannelArguments ReconnectingChannelArguments() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5000);
  return args;
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(const TlsMaterial* material) {
  if (material == nullptr) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = material->ca_pem;
  options.pem_private_key = material->key_pem;
  options.pem_cert_chain = material->cert_pem;
  return grpc::SslCredentials(options);
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(const TlsMaterial* material) {
  if (material == nullptr) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = material->ca_pem;
  options.pem_key_cert_pairs.push_back({material->key_pem, material->cert_pem});
  return grpc::SslServerCredentials(options);
}

std::optional<std::string> CallerIdentity(const grpc::ServerContext& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return std::nullopt;
  std::vector<grpc::string_ref> names = auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  if (names.empty()) return std::string();
  return std::string(names.front().data(), names.front().size());
}

absl::Status ExplainTlsFailure(const absl::Status& status, bool tls) {
  const std::string lower = absl::AsciiStrToLower(status.message());
  auto with = [&](absl::string_view hint) {
    return absl::Status(status.code(), absl::StrCat(status.message(), " -- ", hint));
  };
  if (absl::StrContains(lower, "certificate verify failed")) {
    return with(
        "TLS: this client does not trust the node's certificate (signed by another CA than "
        "--ca, expired, or issued for another address than the one dialled)");
  }
  // Under TLS 1.3 a client learns that its certificate was refused only
  // when the node closes the new connection; the node's log says why.
  if (tls && absl::StrContains(lower, "socket closed")) {
    return with(
        "TLS: a node closed the connection in the handshake: it may not accept this client's "
        "certificate (from another CA than the node's); the node's log has the reason");
  }
  if (absl::StrContains(lower, "ssl") || absl::StrContains(lower, "handshake")) {
    return with(tls ? "TLS handshake failed: does the node run without TLS (kvnode --insecure)? "
                      "then connect without TLS"
                    : "TLS handshake failed");
  }
  if (!tls && absl::StrContains(lower, "socket closed")) {
    return with(
        "a node closed a plaintext connection: it may require TLS (give the CA, certificate and "
        "key; kvctl finds them in .kvharness/tls)");
  }
  return status;
}

}  // namespace quorumkv
