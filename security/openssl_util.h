// Small owners of OpenSSL objects and PEM conversions shared by the files
// of security/. Internal to the library.
#ifndef QUORUMKV_SECURITY_OPENSSL_UTIL_H_
#define QUORUMKV_SECURITY_OPENSSL_UTIL_H_

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace quorumkv::openssl {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// The first certificate, or the private key, in PEM text; INVALID_ARGUMENT
// naming `what` if there is none.
absl::StatusOr<X509Ptr> ParseCertificate(absl::string_view pem, absl::string_view what);
// Every certificate in PEM text (at least one).
absl::StatusOr<std::vector<X509Ptr>> ParseCertificates(absl::string_view pem,
                                                       absl::string_view what);
absl::StatusOr<PkeyPtr> ParsePrivateKey(absl::string_view pem, absl::string_view what);

std::string CertificateToPem(X509* cert);
std::string PrivateKeyToPem(EVP_PKEY* key);

// The certificate's subject common name ("" if none).
std::string CommonName(X509* cert);
// The certificate's notBefore / notAfter.
absl::Time NotBefore(X509* cert);
absl::Time NotAfter(X509* cert);

// The most recent OpenSSL error of this thread, as text (and clears them).
std::string LastError();

}  // namespace quorumkv::openssl

#endif  // QUORUMKV_SECURITY_OPENSSL_UTIL_H_
