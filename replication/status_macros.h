// Status propagation helpers shared by every quorumkv library.
//
// Abseil 20220623 ships no RETURN_IF_ERROR / ASSIGN_OR_RETURN; these are the
// usual definitions. Both evaluate their argument exactly once.
#ifndef QUORUMKV_REPLICATION_STATUS_MACROS_H_
#define QUORUMKV_REPLICATION_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define QKV_CONCAT_INNER_(a, b) a##b
#define QKV_CONCAT_(a, b) QKV_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::absl::Status qkv_status_ = (expr);       \
    if (!qkv_status_.ok()) return qkv_status_; \
  } while (0)

// `lhs = value of expr`, or returns its status from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(QKV_CONCAT_(qkv_statusor_, __LINE__), lhs, expr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                           \
  if (!statusor.ok()) return statusor.status();     \
  lhs = std::move(statusor).value()

#endif  // QUORUMKV_REPLICATION_STATUS_MACROS_H_
