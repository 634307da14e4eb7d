#include "security/cert_authority.h"

#include <arpa/inet.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "replication/status_macros.h"

namespace quorumkv {
namespace {

absl::Status OpenSslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("OpenSSL: ", what, ": ", openssl::LastError()));
}

absl::StatusOr<openssl::PkeyPtr> NewKey() {
  openssl::PkeyPtr key(EVP_EC_gen("P-256"));
  if (key == nullptr) return OpenSslError("cannot make an EC P-256 key");
  return key;
}

// "IP:a.b.c.d" for an address, "DNS:name" for the rest.
std::string SubjectAltName(const std::string& host) {
  unsigned char buffer[16];
  if (inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
      inet_pton(AF_INET6, host.c_str(), buffer) == 1) {
    return absl::StrCat("IP:", host);
  }
  return absl::StrCat("DNS:", host);
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (extension == nullptr) return OpenSslError(absl::StrCat("extension ", value));
  const int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  if (added != 1) return OpenSslError(absl::StrCat("extension ", value));
  return absl::OkStatus();
}

// A certificate for `key` named `common_name`, without extensions or
// signature; the issuer is named `issuer_name` (null: itself).
absl::StatusOr<openssl::X509Ptr> NewCertificate(EVP_PKEY* key, const std::string& common_name,
                                                X509_NAME* issuer_name, absl::Time not_before,
                                                absl::Time not_after) {
  openssl::X509Ptr cert(X509_new());
  uint64_t serial = 0;
  if (cert == nullptr ||
      RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof(serial)) != 1) {
    return OpenSslError("cannot make a certificate");
  }
  serial >>= 1;  // positive
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_set_version(cert.get(), 2) != 1 ||
      ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(cert.get()), absl::ToTimeT(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(not_after)) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1 ||
      X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("quorumkv"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), issuer_name != nullptr ? issuer_name : subject) != 1) {
    return OpenSslError("cannot fill a certificate");
  }
  return cert;
}

}  // namespace

absl::StatusOr<CertAuthority> CertAuthority::Create(const std::string& name, absl::Time not_before,
                                                    absl::Time not_after) {
  ASSIGN_OR_RETURN(openssl::PkeyPtr key, NewKey());
  ASSIGN_OR_RETURN(openssl::X509Ptr cert,
                   NewCertificate(key.get(), name, nullptr, not_before, not_after));
  RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE"));
  RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return OpenSslError("signing the CA");
  return CertAuthority(std::move(cert), std::move(key));
}

absl::StatusOr<CertAuthority> CertAuthority::Load(const std::string& cert_pem,
                                                  const std::string& key_pem) {
  ASSIGN_OR_RETURN(openssl::X509Ptr cert, openssl::ParseCertificate(cert_pem, "the CA"));
  ASSIGN_OR_RETURN(openssl::PkeyPtr key, openssl::ParsePrivateKey(key_pem, "the CA key"));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    openssl::LastError();
    return absl::InvalidArgumentError("the CA key is not the CA certificate's");
  }
  return CertAuthority(std::move(cert), std::move(key));
}

absl::StatusOr<IssuedCertificate> CertAuthority::Issue(const CertificateRequest& request) const {
  if (request.common_name.empty()) return absl::InvalidArgumentError("a certificate needs a name");
  ASSIGN_OR_RETURN(openssl::PkeyPtr key, NewKey());
  ASSIGN_OR_RETURN(openssl::X509Ptr cert, NewCertificate(key.get(), request.common_name,
                                                         X509_get_subject_name(cert_.get()),
                                                         request.not_before, request.not_after));
  RETURN_IF_ERROR(
      AddExtension(cert.get(), cert_.get(), NID_basic_constraints, "critical,CA:FALSE"));
  RETURN_IF_ERROR(
      AddExtension(cert.get(), cert_.get(), NID_key_usage, "critical,digitalSignature"));
  RETURN_IF_ERROR(
      AddExtension(cert.get(), cert_.get(), NID_ext_key_usage, "serverAuth,clientAuth"));
  RETURN_IF_ERROR(
      AddExtension(cert.get(), cert_.get(), NID_authority_key_identifier, "keyid:always"));
  if (!request.hosts.empty()) {
    std::vector<std::string> names;
    for (const std::string& host : request.hosts) names.push_back(SubjectAltName(host));
    RETURN_IF_ERROR(
        AddExtension(cert.get(), cert_.get(), NID_subject_alt_name, absl::StrJoin(names, ",")));
  }
  if (X509_sign(cert.get(), key_.get(), EVP_sha256()) == 0) {
    return OpenSslError("signing a certificate");
  }
  return IssuedCertificate{.cert_pem = openssl::CertificateToPem(cert.get()),
                           .key_pem = openssl::PrivateKeyToPem(key.get())};
}

std::string CertAuthority::cert_pem() const { return openssl::CertificateToPem(cert_.get()); }
std::string CertAuthority::key_pem() const { return openssl::PrivateKeyToPem(key_.get()); }

}  // namespace quorumkv
