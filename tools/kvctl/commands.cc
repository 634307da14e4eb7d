#include "tools/kvctl/commands.h"

#include <cstdio>
#include <iostream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "replication/ring.h"
#include "tools/common/output.h"
#include "tools/kvctl/session_file.h"
#include "tools/kvctl/status_views.h"

namespace quorumkv::kvctl {
namespace {

absl::StatusOr<std::unique_ptr<KvClient>> Connect(const Global& global) {
  // A one-shot command sends to the first endpoint that answers: learning
  // the ring to route by key would cost the hop it saves. A session read
  // learns it when it escalates.
  return KvClient::Connect(KvClientOptions{.endpoints = global.endpoints,
                                           .timeout = absl::Milliseconds(global.timeout_ms),
                                           .route_by_key = false,
                                           .tls = global.tls});
}

// The session of --session, locked for this command; null without one.
absl::StatusOr<std::unique_ptr<SessionFile>> OpenSession(const Global& global) {
  if (global.session_file.empty()) return nullptr;
  return SessionFile::Open(global.session_file);
}

Session* SessionOf(const std::unique_ptr<SessionFile>& file) {
  return file == nullptr ? nullptr : file->session();
}

// Saves the session after a command that may have changed it. A failure
// says what the command did: its write is applied, only the file is stale.
absl::Status SaveSession(const std::unique_ptr<SessionFile>& file, absl::string_view done) {
  if (file == nullptr) return absl::OkStatus();
  absl::Status saved = file->Save();
  if (saved.ok()) return saved;
  return absl::Status(saved.code(), absl::StrCat(done,
                                                 ", but the session was not saved (its next "
                                                 "reads may not see it): ",
                                                 saved.message()));
}

// Prints a failure (stderr; also JSON on stdout with --json) and returns its exit code.
int Fail(const Global& global, absl::string_view key, const absl::Status& status) {
  std::fprintf(stderr, "kvctl: %s: %s\n", absl::StatusCodeToString(status.code()).c_str(),
               std::string(status.message()).c_str());
  if (global.json) std::cout << ErrorJson(key, status).dump() << std::endl;
  return ExitCodeFor(status);
}

// Fail for a put or delete: when its outcome is unknown (exit 5), says how
// to repeat it so that it applies once.
int FailWrite(const Global& global, absl::string_view key, const absl::Status& status,
              const std::string& idempotency_key) {
  if (status.code() == absl::StatusCode::kDeadlineExceeded) {
    std::fprintf(stderr,
                 "kvctl: to repeat it so that it applies once, run the same command with "
                 "--idempotency-key %s\n",
                 idempotency_key.c_str());
  }
  return Fail(global, key, status);
}

absl::StatusOr<std::string> DecodeContextFlag(const std::string& b64) {
  std::string bytes;
  if (!absl::Base64Unescape(b64, &bytes)) {
    return absl::InvalidArgumentError("--context is not base64 (pass the context kvctl printed)");
  }
  return bytes;
}

void PrintPut(const Global& global, const v1::PutResponse& r, absl::string_view verb) {
  if (global.json) {
    std::cout << PutJson(r).dump() << std::endl;
    return;
  }
  std::cout << verb << ": dot " << DotString(r.dot()) << "\n"
            << "context: " << absl::Base64Escape(r.context()) << "\n"
            << "quorum: " << QuorumText(r.quorum(), "W") << std::endl;
}

void PrintGetText(const v1::GetResponse& r) {
  std::vector<const v1::Sibling*> live;
  for (const v1::Sibling& s : r.siblings()) {
    if (!s.tombstone()) live.push_back(&s);
  }
  if (live.size() == 1) {
    std::cout << "value: " << PrintableBytes(live[0]->value()) << "\n";
  } else {
    std::cout << "conflict: " << live.size()
              << " siblings (put a resolved value with this context to replace them)\n";
  }
  if (live.size() > 1 || live.size() < static_cast<size_t>(r.siblings_size())) {
    int i = 0;
    for (const v1::Sibling& s : r.siblings()) {
      std::cout << absl::StrFormat("  [%d] %s  dot %s  at %s\n", ++i,
                                   s.tombstone() ? "(tombstone)" : PrintableBytes(s.value()),
                                   DotString(s.dot()), HlcString(s.hlc()));
    }
  }
  std::cout << "context: " << absl::Base64Escape(r.context()) << "\n"
            << "quorum: " << QuorumText(r.quorum(), "R") << std::endl;
}

}  // namespace

int Put(const Global& global, const PutArgs& args) {
  absl::StatusOr<std::string> context = DecodeContextFlag(args.context_b64);
  if (!context.ok()) return Fail(global, args.key, context.status());
  absl::StatusOr<std::unique_ptr<SessionFile>> session = OpenSession(global);
  if (!session.ok()) return Fail(global, args.key, session.status());
  absl::StatusOr<std::unique_ptr<KvClient>> client = Connect(global);
  if (!client.ok()) return Fail(global, args.key, client.status());
  const std::string idempotency_key = KvClient::IdempotencyKey(args.idempotency_key);
  absl::StatusOr<v1::PutResponse> r =
      (*client)->Put(args.key, args.value,
                     WriteOptions{.w = args.w,
                                  .strict = args.strict,
                                  .context = *context,
                                  .idempotency_key = idempotency_key},
                     SessionOf(*session));
  if (!r.ok()) return FailWrite(global, args.key, r.status(), idempotency_key);
  if (absl::Status saved = SaveSession(*session, "the put was acknowledged"); !saved.ok())
    return Fail(global, args.key, saved);
  PrintPut(global, *r, "ok");
  if (context->empty() && !global.json) {
    std::cout << "blind write (no --context): kept beside any value the key already had; to "
                 "replace them, put with the context a get printed"
              << std::endl;
  }
  return kExitOk;
}

int Get(const Global& global, const GetArgs& args) {
  absl::StatusOr<std::unique_ptr<SessionFile>> session = OpenSession(global);
  if (!session.ok()) return Fail(global, args.key, session.status());
  absl::StatusOr<std::unique_ptr<KvClient>> client = Connect(global);
  if (!client.ok()) return Fail(global, args.key, client.status());
  ReadOptions options{.r = args.r, .strict = args.strict, .allow_stale = args.allow_stale};
  if (args.max_staleness_ms) options.max_staleness = absl::Milliseconds(*args.max_staleness_ms);
  absl::StatusOr<v1::GetResponse> r = (*client)->Get(args.key, options, SessionOf(*session));
  if (!r.ok()) return Fail(global, args.key, r.status());
  if (absl::Status saved = SaveSession(*session, "the read succeeded"); !saved.ok())
    return Fail(global, args.key, saved);
  if (!global.json && r->session().attempts() > 1) {
    std::fprintf(stderr, "kvctl: session read took %u reads:\n", r->session().attempts());
    for (const std::string& why : r->session().escalations()) {
      std::fprintf(stderr, "  %s\n", why.c_str());
    }
  }
  if (!global.json && r->session().stale()) {
    std::fprintf(stderr, "kvctl: stale: %s\n",
                 r->quorum().has_staleness_bound_ms()
                     ? absl::StrCat("staleness bound ", r->quorum().staleness_bound_ms(),
                                    " ms, over the ", *args.max_staleness_ms, " ms asked")
                           .c_str()
                     : "staleness unknown");
  }
  if (global.json) {
    std::cout << GetJson(*r).dump() << std::endl;
  } else if (r->found()) {
    PrintGetText(*r);
  }
  if (r->found()) return kExitOk;
  if (!global.json) {
    std::fprintf(stderr, "kvctl: not found: %s%s (%s)\n", PrintableBytes(args.key).c_str(),
                 r->siblings().empty() ? "" : " is deleted (only tombstones remain)",
                 QuorumText(r->quorum(), "R").c_str());
  }
  return kExitNotFound;
}

int Delete(const Global& global, const DeleteArgs& args) {
  absl::StatusOr<std::unique_ptr<SessionFile>> session = OpenSession(global);
  if (!session.ok()) return Fail(global, args.key, session.status());
  absl::StatusOr<std::unique_ptr<KvClient>> client = Connect(global);
  if (!client.ok()) return Fail(global, args.key, client.status());
  std::string context;
  if (args.context_b64) {
    absl::StatusOr<std::string> decoded = DecodeContextFlag(*args.context_b64);
    if (!decoded.ok()) return Fail(global, args.key, decoded.status());
    context = *decoded;
  }
  // Without a context the client reads first and deletes what it saw.
  const std::string idempotency_key = KvClient::IdempotencyKey(args.idempotency_key);
  absl::StatusOr<v1::PutResponse> r =
      (*client)->Delete(args.key,
                        WriteOptions{.w = args.w,
                                     .strict = args.strict,
                                     .context = context,
                                     .blind = args.blind,
                                     .idempotency_key = idempotency_key},
                        SessionOf(*session));
  if (!r.ok()) return FailWrite(global, args.key, r.status(), idempotency_key);
  if (absl::Status saved = SaveSession(*session, "the delete was acknowledged"); !saved.ok())
    return Fail(global, args.key, saved);
  PrintPut(global, *r, "deleted");
  return kExitOk;
}

int Status(const Global& global) {
  // Every node at once, each on its own connection; the first endpoint (in
  // --cluster order) that answered gives the full report.
  const std::vector<NodeView> views =
      AskEveryNode(global.endpoints, absl::Milliseconds(global.timeout_ms), global.tls);
  const NodeView* first = nullptr;
  for (const NodeView& v : views) {
    if (v.status.ok()) {
      first = &v;
      break;
    }
  }
  if (first == nullptr) return Fail(global, "", views.front().status.status());
  const Disagreements disagreements = FindDisagreements(views);
  const absl::StatusOr<v1::StatusResponse>& r = first->status;
  if (global.json) {
    nlohmann::json out = StatusJson(*r);
    out.update(ViewsJson(views, disagreements));
    std::cout << out.dump() << std::endl;
    return kExitOk;
  }
  std::cout << absl::StrFormat("cluster: %d nodes, N=%d, %d partitions (as seen by %s)\n",
                               r->nodes_size(), r->replication_factor(), r->partitions(),
                               r->reporter());
  // HINTS..EXPIRED: hints the other nodes hold for this one (it is their
  // home), and those they dropped for age; LATENCY: the reporter's recent
  // median / baseline p99 to it; TO REPAIR: partitions the node marked for
  // anti-entropy (of the hints it dropped for age, or all of its own).
  std::cout << absl::StrFormat("%-8s %-22s %-8s %-15s %-7s %-10s %-12s %-8s %-10s %-18s %s\n",
                               "NODE", "ADDRESS", "STATE", "LATENCY ms", "HINTS", "HINT BYTES",
                               "OLDEST HINT", "EXPIRED", "PARTITIONS", "TO REPAIR",
                               "LAST REPAIR ROUND");
  bool lost_writes = false;
  for (const v1::NodeStatus& n : r->nodes()) {
    lost_writes |= n.lost_writes();
    const std::string oldest =
        n.has_oldest_hint_age_ms() ? absl::StrCat(n.oldest_hint_age_ms(), " ms") : "-";
    const std::string latency =
        n.recent_median_ms() > 0
            ? absl::StrFormat(
                  "%.1f / %s", n.recent_median_ms(),
                  n.baseline_p99_ms() > 0 ? absl::StrFormat("%.1f", n.baseline_p99_ms()) : "-")
            : "-";
    const std::string to_repair = n.lost_writes() ? "all (lost writes)"
                                  : n.partitions_marked_for_repair() > 0
                                      ? absl::StrCat(n.partitions_marked_for_repair())
                                      : "-";
    const std::string last_round =
        n.has_last_repair_round_age_ms()
            ? absl::StrFormat("%.1f s ago", n.last_repair_round_age_ms() / 1000.0)
            : "none yet";
    std::cout << absl::StrFormat("%-8s %-22s %-8s %-15s %-7d %-10d %-12s %-8d %-10d %-18s %s\n",
                                 n.id(), n.address(), n.state(), latency, n.hints_pending(),
                                 n.hint_bytes(), oldest, n.hints_expired(), n.partitions(),
                                 to_repair, last_round);
  }
  std::cout
      << "HINTS: held by fallbacks for the node; EXPIRED: of those, dropped for age (the "
         "node may lack their writes until anti-entropy); LATENCY: recent median / "
         "baseline p99 as the reporter sees it; TO REPAIR: partitions the node marked "
         "for anti-entropy (those of hints it dropped, or all after lost writes); LAST REPAIR "
         "ROUND: the node's last anti-entropy round that compared every replica pair "
         "(kvctl repair runs one now)\n";
  for (const v1::NodeStatus& n : r->nodes()) {
    if (n.invariant_failures() == 0) continue;
    std::cout << "invariant failures on " << n.id() << ": " << n.invariant_failures()
              << " (each a bug in quorumkv, logged by the node with the check that failed; the "
                 "request it was part of failed with INTERNAL)\n";
  }
  if (lost_writes) {
    std::cout << "lost writes: the node could not prove it kept every write it had "
                 "acknowledged (a log that lost its tail, a machine restart after an unclean "
                 "stop, a restored directory, a replaced disk); it came back under a new actor, "
                 "and its replies do not count toward a read's strict overlap while its "
                 "partitions are marked for repair\n";
  }
  PrintViews(views, disagreements);
  return kExitOk;
}

int Where(const Global& global, const std::string& key) {
  absl::StatusOr<std::unique_ptr<KvClient>> client = Connect(global);
  if (!client.ok()) return Fail(global, key, client.status());
  absl::StatusOr<v1::RingResponse> ring_info = (*client)->Ring();
  if (!ring_info.ok()) return Fail(global, key, ring_info.status());
  absl::StatusOr<Ring> ring = RingOf(*ring_info);
  if (!ring.ok()) return Fail(global, key, ring.status());
  const PreferenceList& list = ring->ForKey(key);
  if (global.json) {
    nlohmann::json out = nlohmann::json::object();
    SetBytes(out, "key", key);
    out["home"] = list.home;
    out["fallbacks"] = list.fallbacks;
    out["partition"] = ring->PartitionOf(key);
    std::cout << out.dump() << std::endl;
    return kExitOk;
  }
  std::cout << "key " << PrintableBytes(key) << ": partition " << ring->PartitionOf(key) << " of "
            << ring->partition_count() << "\n"
            << "home:      " << absl::StrJoin(list.home, " ") << "\n"
            << "fallbacks: "
            << (list.fallbacks.empty() ? "(none)" : absl::StrJoin(list.fallbacks, " "))
            << std::endl;
  return kExitOk;
}

}  // namespace quorumkv::kvctl
