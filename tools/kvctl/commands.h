// The commands of kvctl, each returning kvctl's exit code. Flags are parsed
// in main (kvctl_main.cc); these take them as plain structs.
#ifndef QUORUMKV_TOOLS_KVCTL_COMMANDS_H_
#define QUORUMKV_TOOLS_KVCTL_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "client/kv_client.h"

namespace quorumkv::kvctl {

struct Global {
  std::vector<std::string> endpoints;
  bool json = false;
  int64_t timeout_ms = 5000;
  std::string session_file;  // empty: no session
  TlsFiles tls;              // empty: plaintext
};

struct PutArgs {
  std::string key;
  std::string value;
  uint32_t w = 0;
  bool strict = false;
  std::string context_b64;
  std::string idempotency_key;  // empty: a fresh one
};

struct GetArgs {
  std::string key;
  uint32_t r = 0;
  bool strict = false;
  std::optional<int64_t> max_staleness_ms;  // bounded staleness (needs --session)
  bool allow_stale = false;
};

struct DeleteArgs {
  std::string key;
  uint32_t w = 0;
  bool strict = false;
  std::optional<std::string> context_b64;  // absent: read the key's context first
  bool blind = false;                      // delete with no context at all
  std::string idempotency_key;             // empty: a fresh one
};

struct RepairArgs {
  std::string node;                   // empty: every node
  std::optional<uint32_t> partition;  // absent: every partition
  int64_t max_wait_s = 3600;
};

int Put(const Global& global, const PutArgs& args);
int Get(const Global& global, const GetArgs& args);
int Delete(const Global& global, const DeleteArgs& args);
int Status(const Global& global);
int Where(const Global& global, const std::string& key);
// tools/kvctl/repair.cc
int Repair(const Global& global, const RepairArgs& args);

}  // namespace quorumkv::kvctl

#endif  // QUORUMKV_TOOLS_KVCTL_COMMANDS_H_
