#include "security/tls_files.h"

#include <arpa/inet.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "replication/status_macros.h"
#include "security/openssl_util.h"

namespace quorumkv {
namespace {

absl::StatusOr<std::string> ReadPemFile(const std::string& path, absl::string_view flag) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS needs ", flag, " too (the CA, the certificate and its key go together)"));
  }
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, " is a directory, not a file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", flag, " ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string UtcText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", t, absl::UTCTimeZone());
}

struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};

}  // namespace

std::string NodeIdentity(absl::string_view node_id) {
  return absl::StrCat(kNodeIdentityPrefix, node_id);
}
std::string ClientIdentity(absl::string_view name) {
  return absl::StrCat(kClientIdentityPrefix, name);
}

TlsFiles TlsFilesIn(absl::string_view dir, absl::string_view name) {
  const std::filesystem::path base{std::string(dir)};
  return TlsFiles{.ca = (base / "ca.pem").string(),
                  .cert = (base / absl::StrCat(name, ".pem")).string(),
                  .key = (base / absl::StrCat(name, "-key.pem")).string()};
}

bool IsLoopbackAddress(absl::string_view address) {
  absl::string_view host = address;
  if (absl::ConsumePrefix(&host, "[")) {
    host = host.substr(0, host.find(']'));
  } else if (const size_t colon = host.rfind(':'); colon != absl::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host == "localhost" || host == "::1") return true;
  unsigned char ip[4];
  return inet_pton(AF_INET, std::string(host).c_str(), ip) == 1 && ip[0] == 127;
}

absl::Status VerifyCertificate(absl::string_view ca_pem, absl::string_view cert_pem,
                               absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<openssl::X509Ptr> cas, openssl::ParseCertificates(ca_pem, "the CA"));
  ASSIGN_OR_RETURN(openssl::X509Ptr cert, openssl::ParseCertificate(cert_pem, "the certificate"));
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> context(X509_STORE_CTX_new());
  if (store == nullptr || context == nullptr) {
    return absl::InternalError(absl::StrCat("OpenSSL: ", openssl::LastError()));
  }
  // A bundle (old and new CA, while rotating) trusts each.
  for (const openssl::X509Ptr& ca : cas) {
    if (X509_check_ca(ca.get()) == 0) {
      return absl::InvalidArgumentError("the CA file holds a certificate that is not a CA");
    }
    if (X509_STORE_add_cert(store.get(), ca.get()) != 1) {
      return absl::InternalError(absl::StrCat("OpenSSL: ", openssl::LastError()));
    }
  }
  if (X509_STORE_CTX_init(context.get(), store.get(), cert.get(), nullptr) != 1) {
    return absl::InternalError(absl::StrCat("OpenSSL: ", openssl::LastError()));
  }
  X509_STORE_CTX_set_time(context.get(), 0, absl::ToTimeT(now));
  if (X509_verify_cert(context.get()) == 1) return absl::OkStatus();
  const int error = X509_STORE_CTX_get_error(context.get());
  switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return absl::InvalidArgumentError(absl::StrCat("certificate expired at ",
                                                     UtcText(openssl::NotAfter(cert.get())),
                                                     " (now ", UtcText(now), ")"));
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return absl::InvalidArgumentError(absl::StrCat("certificate is not valid before ",
                                                     UtcText(openssl::NotBefore(cert.get())),
                                                     " (now ", UtcText(now), ")"));
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return absl::InvalidArgumentError(absl::StrCat("certificate is not signed by this CA (",
                                                     X509_verify_cert_error_string(error), ")"));
    default:
      return absl::InvalidArgumentError(X509_verify_cert_error_string(error));
  }
}

absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsFiles& files, absl::Time now) {
  TlsMaterial material;
  ASSIGN_OR_RETURN(material.ca_pem, ReadPemFile(files.ca, "--ca"));
  ASSIGN_OR_RETURN(material.cert_pem, ReadPemFile(files.cert, "--cert"));
  ASSIGN_OR_RETURN(material.key_pem, ReadPemFile(files.key, "--key"));
  auto named = [](const std::string& path, const absl::Status& status) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", status.message()));
  };
  absl::StatusOr<openssl::X509Ptr> ca = openssl::ParseCertificate(material.ca_pem, "the file");
  if (!ca.ok()) return named(files.ca, ca.status());
  if (now > openssl::NotAfter(ca->get())) {
    return absl::InvalidArgumentError(absl::StrCat(files.ca, ": the CA certificate expired at ",
                                                   UtcText(openssl::NotAfter(ca->get()))));
  }
  absl::StatusOr<openssl::X509Ptr> cert = openssl::ParseCertificate(material.cert_pem, "the file");
  if (!cert.ok()) return named(files.cert, cert.status());
  absl::StatusOr<openssl::PkeyPtr> key = openssl::ParsePrivateKey(material.key_pem, "the file");
  if (!key.ok()) return named(files.key, key.status());
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    openssl::LastError();
    return absl::InvalidArgumentError(
        absl::StrCat(files.key, " is not the private key of the certificate in ", files.cert));
  }
  if (absl::Status verified = VerifyCertificate(material.ca_pem, material.cert_pem, now);
      !verified.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(files.cert, ": ", verified.message(), " (CA ", files.ca, ")"));
  }
  material.identity = openssl::CommonName(cert->get());
  material.not_after = openssl::NotAfter(cert->get());
  return material;
}

}  // namespace quorumkv
