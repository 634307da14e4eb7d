// kvctl: the command line of quorumkv. See `kvctl --help`.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "tools/common/output.h"
#include "tools/kvctl/commands.h"

namespace {

using namespace quorumkv;  // NOLINT: a main file.

constexpr char kDescription[] =
    "kvctl: talk to a quorumkv cluster.\n"
    "Exit codes: 0 ok, 1 other error, 2 usage or invalid input (nothing written), 3 not found,\n"
    "4 unavailable (quorum not met; a write may be partially applied), 5 deadline exceeded\n"
    "(outcome unknown), 6 session guarantee not satisfiable.";

// The endpoints: --cluster, else $KVCTL_CLUSTER, else the endpoints file of a
// kvharness cluster in the current directory (whose TLS files are beside it,
// in .kvharness/tls).
std::string DefaultCluster() {
  std::ifstream in(".kvharness/endpoints");
  std::string line;
  if (in && std::getline(in, line)) return line;
  return "";
}

// The TLS files: --ca/--cert/--key, else those of --tls-dir, else of
// .kvharness/tls when it exists; none with --insecure.
absl::StatusOr<TlsFiles> ChooseTls(const TlsFiles& given, const std::string& dir, bool insecure) {
  if (insecure) {
    if (!given.empty() || !dir.empty()) {
      return absl::InvalidArgumentError(
          "--insecure and TLS files (--ca/--cert/--key/--tls-dir) "
          "exclude each other");
    }
    return TlsFiles{};
  }
  if (!given.empty()) return given;
  if (!dir.empty()) return TlsFilesIn(dir, "client");
  std::error_code error;
  if (std::filesystem::exists(".kvharness/tls/ca.pem", error)) {
    return TlsFilesIn(".kvharness/tls", "client");
  }
  return TlsFiles{};
}

absl::StatusOr<std::string> ReadValueFile(const std::string& path) {
  std::stringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
    return buffer.str();
  }
  // A directory opens, and reads as no bytes: it would become an empty value.
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--value-file ", path, " is a directory, not a file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read --value-file ", path));
  buffer << in.rdbuf();
  if (in.bad())
    return absl::InvalidArgumentError(absl::StrCat("error reading --value-file ", path));
  return buffer.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "kvctl"};
  app.require_subcommand(1, 1);
  app.fallthrough();
  std::string cluster;
  kvctl::Global global;
  app.add_option("--cluster", cluster,
                 "HOST:PORT[,HOST:PORT...] of any nodes (default: $KVCTL_CLUSTER, else "
                 ".kvharness/endpoints)")
      ->envname("KVCTL_CLUSTER");
  app.add_flag("--json", global.json, "print one JSON object");
  app.add_option("--session", global.session_file,
                 "keep a client session in FILE (created if missing): reads see this session's "
                 "acknowledged writes and never go back in time, escalating to more replicas "
                 "when a reply falls short; exit 6 if none suffices (docs/consistency.md)");
  TlsFiles tls;
  std::string tls_dir;
  bool insecure = false;
  app.add_option("--ca", tls.ca, "the cluster's CA certificate (PEM), for mutual TLS");
  app.add_option("--cert", tls.cert, "this client's certificate (PEM), common name client:NAME");
  app.add_option("--key", tls.key, "this client's private key (PEM)");
  app.add_option("--tls-dir", tls_dir,
                 "a directory holding ca.pem, client.pem and client-key.pem, as kvharness writes "
                 "DIR/tls (default: $KVCTL_TLS_DIR, else .kvharness/tls when it exists)")
      ->envname("KVCTL_TLS_DIR");
  app.add_flag("--insecure", insecure, "connect in plaintext, to nodes run without TLS")
      ->envname("KVCTL_INSECURE");
  app.add_option("--timeout-ms", global.timeout_ms, "deadline of each request")
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}))
      ->capture_default_str();

  kvctl::PutArgs put;
  std::string value_file;
  CLI::App* put_cmd = app.add_subcommand(
      "put",
      "write a value; without --context it is a blind write, kept as a sibling of any "
      "value already there");
  put_cmd->add_option("key", put.key, "key (1..1024 bytes)")->required();
  auto* value_opt = put_cmd->add_option("value", put.value, "value");
  auto* file_opt =
      put_cmd->add_option("--value-file", value_file, "read the value from a file (- for stdin)");
  value_opt->excludes(file_opt);
  put_cmd->add_option("--w", put.w, "write quorum W (1..N; default: the cluster's)")
      ->check(CLI::Range(1u, 64u));
  put_cmd->add_flag("--strict", put.strict, "home replicas only (no sloppy quorum)");
  // An empty --context (an unset shell variable) would silently be a blind
  // write, or a delete of what a read shows: refused, saying what to do.
  const auto not_empty_context = [](std::string instead) {
    return CLI::Validator(
        [instead](std::string& context) {
          return context.empty() ? absl::StrCat("empty context; ", instead) : std::string();
        },
        "not empty");
  };
  put_cmd
      ->add_option("--context", put.context_b64,
                   "context from an earlier get: replaces what it covers")
      ->check(not_empty_context("omit --context for a blind write"));
  const auto at_most_64_bytes = CLI::Validator(
      [](std::string& key) { return key.size() <= 64 ? std::string() : "over 64 bytes"; },
      "up to 64 bytes");
  constexpr char kIdempotencyHelp[] =
      "name this write (up to 64 bytes; default: random): after exit 5 (outcome unknown), run "
      "the same command with the same key, and a copy applied twice reads as one";
  put_cmd->add_option("--idempotency-key", put.idempotency_key, kIdempotencyHelp)
      ->check(at_most_64_bytes);

  kvctl::GetArgs get;
  CLI::App* get_cmd = app.add_subcommand("get", "read a key: every sibling, and its context");
  get_cmd->add_option("key", get.key, "key")->required();
  get_cmd->add_option("--r", get.r, "read quorum R (1..N; default: the cluster's)")
      ->check(CLI::Range(1u, 64u));
  get_cmd->add_flag("--strict", get.strict, "home replicas only (no sloppy quorum)");
  int64_t max_staleness_ms = 0;
  auto* staleness_opt =
      get_cmd
          ->add_option("--max-staleness-ms", max_staleness_ms,
                       "bounded staleness (with --session): the reply must provably reflect every "
                       "write acknowledged at least T ms before the read; escalates, then exit 6")
          ->check(CLI::Range(int64_t{0}, int64_t{86'400'000}));
  auto* allow_stale_opt = get_cmd->add_flag(
      "--allow-stale", get.allow_stale,
      "with --max-staleness-ms: print a reply over the bound flagged stale instead of exit 6");
  allow_stale_opt->needs(staleness_opt);

  kvctl::DeleteArgs del;
  std::string del_context;
  CLI::App* del_cmd = app.add_subcommand(
      "delete",
      "write a tombstone; without --context, first reads the key and deletes what "
      "that read saw (values written concurrently survive)");
  del_cmd->add_option("key", del.key, "key")->required();
  del_cmd->add_option("--w", del.w, "write quorum W (1..N; default: the cluster's)")
      ->check(CLI::Range(1u, 64u));
  del_cmd->add_flag("--strict", del.strict, "home replicas only (no sloppy quorum)");
  auto* ctx_opt =
      del_cmd->add_option("--context", del_context, "delete only what this context covers")
          ->check(not_empty_context("omit --context to delete what a read shows, or pass --blind"));
  auto* blind_opt = del_cmd->add_flag(
      "--blind", del.blind, "no read, no context: a tombstone concurrent with every value");
  ctx_opt->excludes(blind_opt);
  del_cmd->add_option("--idempotency-key", del.idempotency_key, kIdempotencyHelp)
      ->check(at_most_64_bytes);

  CLI::App* status_cmd = app.add_subcommand(
      "status",
      "every node asked at once: the first endpoint that answers reports the nodes (state, "
      "hints, repair); then how each node sees the others, with disagreements flagged");
  std::string where_key;
  CLI::App* where_cmd =
      app.add_subcommand("where", "a key's preference list: home replicas, then fallbacks");
  where_cmd->add_option("key", where_key, "key")->required();

  kvctl::RepairArgs repair;
  uint32_t repair_partition = 0;
  CLI::App* repair_cmd = app.add_subcommand(
      "repair",
      "run an anti-entropy round now: each node compares its Merkle trees with the other home "
      "replicas of its partitions and merges the keys that differ, both ways; progress on "
      "stderr, a summary (or --json) at the end; exit 4 if some pair could not be compared");
  repair_cmd->add_option("--node", repair.node, "only this node's round (default: every node)");
  auto* partition_opt = repair_cmd->add_option("--partition", repair_partition,
                                               "only this ring partition (kvctl where KEY names "
                                               "a key's)");
  repair_cmd
      ->add_option("--max-wait-s", repair.max_wait_s,
                   "stop waiting after this long (exit 5; the round goes on in the nodes)")
      ->check(CLI::Range(int64_t{1}, int64_t{86'400}))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (cluster.empty()) cluster = DefaultCluster();
  absl::StatusOr<TlsFiles> chosen = ChooseTls(tls, tls_dir, insecure);
  if (!chosen.ok()) {
    std::cerr << "kvctl: " << chosen.status().message() << "\n";
    return kExitUsage;
  }
  global.tls = *std::move(chosen);
  global.endpoints = SplitEndpoints(cluster);
  if (global.endpoints.empty()) {
    std::cerr << "kvctl: no cluster given: pass --cluster HOST:PORT or set KVCTL_CLUSTER\n";
    return kExitUsage;
  }
  if (put_cmd->parsed()) {
    if (!file_opt->empty()) {
      absl::StatusOr<std::string> value = ReadValueFile(value_file);
      if (!value.ok()) {
        std::cerr << "kvctl: " << value.status().message() << "\n";
        return kExitUsage;
      }
      put.value = *std::move(value);
    } else if (value_opt->empty()) {
      std::cerr << "kvctl: put needs a VALUE or --value-file\n";
      return kExitUsage;
    }
    return kvctl::Put(global, put);
  }
  if (get_cmd->parsed()) {
    if (!staleness_opt->empty()) {
      if (global.session_file.empty()) {
        std::cerr << "kvctl: --max-staleness-ms needs --session FILE (bounded staleness is a "
                     "session guarantee)\n";
        return kExitUsage;
      }
      get.max_staleness_ms = max_staleness_ms;
    }
    return kvctl::Get(global, get);
  }
  if (del_cmd->parsed()) {
    if (!ctx_opt->empty()) del.context_b64 = del_context;
    return kvctl::Delete(global, del);
  }
  if (status_cmd->parsed()) return kvctl::Status(global);
  if (where_cmd->parsed()) return kvctl::Where(global, where_key);
  if (repair_cmd->parsed()) {
    if (!partition_opt->empty()) repair.partition = repair_partition;
    return kvctl::Repair(global, repair);
  }
  return kExitUsage;
}
