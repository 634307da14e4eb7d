// `kvharness demo read-your-writes` and `demo bounded-staleness`: client
// sessions (docs/consistency.md) against faults, narrated.
//
// read-your-writes: the writer's replication to the other home replicas is
// cut; its W=1 write is acknowledged by itself alone. A plain R=1 read
// through another home misses it; the same read in the writer's session
// escalates until a replica with the write answers, or — when the client
// can reach none — refuses rather than return the old value.
//
// bounded-staleness: a read asking to be at most T stale is held to the
// node's proven bound: 0 once every home replica answers (strict overlap),
// else the age of a home replica's freshness watermark, set by an
// anti-entropy round (replication/freshness.h). With a home replica down
// no round completes, the watermark ages past T, and the read is refused,
// or returned flagged stale when the session allows it.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/session_read.h"
#include "tools/common/output.h"
#include "tools/kvharness/demo_support.h"

namespace quorumkv {
namespace {

// "HOST:PORT,..." of `nodes`, in that order.
std::string EndpointsOf(LocalCluster& cluster, const std::vector<std::string>& nodes) {
  std::vector<std::string> endpoints;
  for (const std::string& node : nodes) endpoints.push_back(*cluster.EndpointOf(node));
  return absl::StrJoin(endpoints, ",");
}

std::string BoundText(const v1::QuorumInfo& q) {
  return q.has_staleness_bound_ms() ? absl::StrCat(q.staleness_bound_ms(), " ms")
                                    : std::string("unknown");
}

// Prints how a session read went: its reads and why each fell short.
void SawSessionRead(Narrator& n, const v1::GetResponse& r) {
  n.Saw(absl::StrCat(Values(r), " from ", Replied(r.quorum()), " after ", r.session().attempts(),
                     " read", r.session().attempts() == 1 ? "" : "s"));
  for (const std::string& why : r.session().escalations()) n.Saw(absl::StrCat("  ", why));
}

absl::StatusOr<Cast> SessionCast(LocalCluster& cluster, const std::string& demo,
                                 const std::string& prefix) {
  absl::StatusOr<std::string> endpoints = cluster.Endpoints();
  if (!endpoints.ok()) return endpoints.status();
  absl::StatusOr<Cast> cast = ChooseCast(*ClientFor(cluster, *endpoints), prefix);
  if (!cast.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot read the ring: ", cast.status().message()));
  }
  if (cast->n < 2) {
    return absl::FailedPreconditionError(
        absl::StrCat("demo ", demo, " needs N >= 2: kvharness up --nodes 3"));
  }
  return cast;
}

}  // namespace

int ReadYourWritesDemo(LocalCluster& cluster) {
  Narrator n;
  absl::StatusOr<Cast> chosen = SessionCast(cluster, "read-your-writes", "demo/profile-");
  if (!chosen.ok()) return NoCast(chosen.status());
  const Cast& c = *chosen;
  const std::string& writer = c.coordinator;
  const std::string& reader = c.victim;
  std::vector<std::string> others;  // every node but the writer
  for (const std::string& node : c.pref.home) {
    if (node != writer) others.push_back(node);
  }
  for (const std::string& node : c.pref.fallbacks) others.push_back(node);
  std::vector<std::string> reader_first = {reader, writer};
  for (const std::string& node : others) {
    if (node != reader) reader_first.push_back(node);
  }
  auto at_writer = ClientFor(cluster, *cluster.EndpointOf(writer));
  auto at_reader = ClientFor(cluster, *cluster.EndpointOf(reader));
  auto anywhere = ClientFor(cluster, EndpointsOf(cluster, reader_first));
  Session session;

  n.Title(absl::StrCat(
      "read-your-writes: a user's write, then their read through another node (N=", c.n, ")"));
  n.Step(absl::StrCat("put \"name: Ann\" to ", c.key, " with W=", c.n, " through ", writer));
  absl::StatusOr<v1::PutResponse> put = at_writer->Put(c.key, "name: Ann", {.w = c.n});
  if (n.Expect(put.ok(), absl::StrCat("put failed: ", put.status().ToString()))) {
    n.Saw(absl::StrCat("acked by ", Replied(put->quorum())));
  }

  n.Step(absl::StrCat("kvharness drop ", writer, "->", absl::StrJoin(others, ",")));
  for (const std::string& node : others) {
    n.Expect(cluster.Drop(writer, node).ok(), absl::StrCat("could not drop ", writer, "->", node));
  }
  n.Why(absl::StrCat("every byte ", writer,
                     " sends to another node now vanishes: its replication, and its requests"));

  n.Step(absl::StrCat("in the user's session: put \"name: Bea\" with W=1 through ", writer));
  put = at_writer->Put(c.key, "name: Bea", {.w = 1, .context = put.ok() ? put->context() : ""},
                       &session);
  if (n.Expect(put.ok(), absl::StrCat("put failed: ", put.status().ToString()))) {
    n.Saw(absl::StrCat("acked by ", Replied(put->quorum()), "; the session records its dot ",
                       DotString(put->dot())));
    n.Why("W=1: acknowledged once the writer's own replica has it; the others never got it");
  }

  n.Step(absl::StrCat("without a session: get with R=1 through ", reader));
  absl::StatusOr<v1::GetResponse> plain = at_reader->Get(c.key, {.r = 1});
  n.Expect(plain.ok() && LiveValues(*plain) == std::vector<std::string>{"name: Ann"},
           absl::StrCat("expected the old [\"name: Ann\"]: ", plain.status().ToString()));
  if (plain.ok()) {
    n.Saw(absl::StrCat(Values(*plain), " from ", Replied(plain->quorum())));
    n.Why("the user's own update is missing: what a client without a session shows its user");
  }

  n.Step(absl::StrCat("in the session: the same get, the client knowing every node (", reader,
                      " first)"));
  absl::StatusOr<v1::GetResponse> escalated =
      anywhere->Get(c.key, {.r = 1, .timeout = absl::Seconds(10)}, &session);
  if (n.Expect(escalated.ok() && LiveValues(*escalated) == std::vector<std::string>{"name: Bea"} &&
                   escalated->session().attempts() > 1,
               absl::StrCat("expected [\"name: Bea\"] after escalating: ",
                            escalated.status().ToString()))) {
    SawSessionRead(n, *escalated);
    n.Why(absl::StrCat(
        "the first reply's context lacked the session's dot, so the client asked more replicas "
        "until one had it: ",
        writer, ", which coordinated the write, answers with its own replica"));
  }

  n.Step(absl::StrCat("in the session: a get through ", reader, " alone"));
  absl::StatusOr<v1::GetResponse> refused =
      at_reader->Get(c.key, {.r = 1, .timeout = absl::Seconds(10)}, &session);
  n.Expect(IsSessionGuaranteeFailure(refused.status()),
           absl::StrCat("expected read-your-writes not satisfiable: ",
                        refused.ok() ? Values(*refused) : refused.status().ToString()));
  n.Saw(refused.ok() ? Values(*refused) : std::string(refused.status().message()));
  n.Why(
      "no replica this client can reach has the write, so the read fails (kvctl exits 6) "
      "rather than show the old name");

  n.Step("kvharness heal; the same session get through " + reader);
  n.Expect(cluster.Heal().ok(), "could not heal");
  absl::StatusOr<v1::GetResponse> healed =
      at_reader->Get(c.key, {.timeout = absl::Seconds(10)}, &session);
  if (n.Expect(healed.ok() && LiveValues(*healed) == std::vector<std::string>{"name: Bea"},
               absl::StrCat("expected [\"name: Bea\"]: ", healed.status().ToString()))) {
    SawSessionRead(n, *healed);
    n.Why(absl::StrCat("with the links back, a read of every home replica reaches ", writer,
                       "'s; read repair then copies the write to the replicas that lacked it"));
  }
  return n.Verdict();
}

int BoundedStalenessDemo(LocalCluster& cluster) {
  Narrator n;
  absl::StatusOr<Cast> chosen = SessionCast(cluster, "bounded-staleness", "demo/price-");
  if (!chosen.ok()) return NoCast(chosen.status());
  const Cast& c = *chosen;
  std::vector<std::string> others;
  for (const std::string& node : c.pref.home) {
    if (node != c.victim) others.push_back(node);
  }
  for (const std::string& node : c.pref.fallbacks) others.push_back(node);
  const std::string reader = others.front();  // a home replica: R=1 reads its own replica
  auto client = ClientFor(cluster, EndpointsOf(cluster, others));
  Session session;
  // Long enough that, on a loaded machine, the watermark the repair round
  // sets is still younger than T when the read after the kill arrives.
  const absl::Duration t = absl::Seconds(5);
  const ReadOptions within_t{.r = 1, .timeout = absl::Seconds(10), .max_staleness = t};
  const std::string t_text = absl::StrCat(absl::ToInt64Milliseconds(t), " ms");

  n.Title(
      absl::StrCat("bounded-staleness: reads at most ", t_text, " stale, proven (N=", c.n, ")"));
  n.Step(absl::StrCat("put \"price: 10\" to ", c.key, " through ", reader, " with W=1"));
  absl::StatusOr<v1::PutResponse> put = client->Put(c.key, "price: 10", {.w = 1});
  if (n.Expect(put.ok(), absl::StrCat("put failed: ", put.status().ToString()))) {
    n.Saw(absl::StrCat("acked by ", Replied(put->quorum())));
  }

  n.Step(absl::StrCat("get with R=1, at most ", t_text, " stale"));
  absl::StatusOr<v1::GetResponse> got = client->Get(c.key, within_t, &session);
  if (n.Expect(got.ok() && got->quorum().has_staleness_bound_ms() &&
                   got->quorum().staleness_bound_ms() <= absl::ToInt64Milliseconds(t) &&
                   !got->session().stale(),
               absl::StrCat("expected a proven bound: ", got.status().ToString()))) {
    SawSessionRead(n, *got);
    n.Saw(absl::StrCat("proven staleness bound: ", BoundText(got->quorum())));
    n.Why(absl::StrCat(
        "a reply proves its staleness in one of two ways: every home replica answered (strict "
        "overlap, bound 0), or one that answered holds a freshness watermark younger than T. ",
        got->session().attempts() > 1
            ? absl::StrCat(reader, " alone proved nothing, so the client asked all ", c.n)
            : absl::StrCat(reader, "'s watermark was young enough")));
  }

  n.Step(absl::StrCat("kvctl repair --node ", reader, " --partition ", c.partition,
                      " (an anti-entropy round of the key's partition)"));
  absl::StatusOr<v1::RepairResponse> round = RunRepairRound(
      *ClientFor(cluster, *cluster.EndpointOf(reader)), c.partition, absl::Seconds(10));
  if (n.Expect(round.ok() && round->complete(),
               absl::StrCat("expected a complete round: ",
                            round.ok() ? round->last_error() : round.status().ToString()))) {
    n.Saw(absl::StrCat(round->exchanges_done(), " exchanges (one per other home replica), ",
                       round->keys_repaired(), " keys repaired"));
    n.Why(
        absl::StrCat("the round first asked every node whether it holds a hint for a home "
                     "replica (a write may live only there), then compared ",
                     reader,
                     "'s replica of the partition with theirs: it now holds every write to the "
                     "partition acknowledged before the round began — its freshness "
                     "watermark"));
  }

  n.Step(absl::StrCat("kvharness kill ", c.victim, " (a home replica of the key); the same get"));
  n.Expect(cluster.Kill(c.victim).ok(), "could not kill");
  got = client->Get(c.key, within_t, &session);
  if (n.Expect(got.ok() && !got->session().stale() && got->quorum().has_staleness_bound_ms() &&
                   got->quorum().staleness_bound_ms() > 0,
               absl::StrCat("expected a bound proven by the watermark: ",
                            got.ok() ? BoundText(got->quorum()) : got.status().ToString()))) {
    SawSessionRead(n, *got);
    n.Saw(absl::StrCat("proven staleness bound: ", BoundText(got->quorum())));
    n.Why(absl::StrCat("no strict overlap with ", c.victim, " down, but ", reader,
                       "'s watermark proves the reply reflects every write acknowledged more than ",
                       BoundText(got->quorum()), " before the read"));
  }

  n.Step(absl::StrCat("wait until the watermark is older than ", t_text, "; the same get"));
  ReadOptions allow = within_t;
  allow.allow_stale = true;
  const absl::Time waited = absl::Now();
  absl::StatusOr<v1::GetResponse> flagged;
  do {
    flagged = client->Get(c.key, allow, &session);
  } while (!(flagged.ok() && flagged->session().stale()) &&
           absl::Now() < waited + t + absl::Seconds(10) &&
           (absl::SleepFor(absl::Milliseconds(200)), true));
  absl::StatusOr<v1::GetResponse> refused = client->Get(c.key, within_t, &session);
  n.Expect(IsSessionGuaranteeFailure(refused.status()),
           absl::StrCat("expected bounded staleness not satisfiable: ",
                        refused.ok() ? BoundText(refused->quorum()) : refused.status().ToString()));
  n.Saw(refused.ok() ? Values(*refused) : std::string(refused.status().message()));
  n.Why(absl::StrCat("with ", c.victim,
                     " down no round can complete its survey (it may hold the hint of a write), "
                     "so the watermark only ages; past T the client escalates, finds no better "
                     "proof, and refuses (kvctl exits 6)"));

  n.Step("the same get, allowing stale replies (kvctl --allow-stale)");
  flagged = client->Get(c.key, allow, &session);
  if (n.Expect(flagged.ok() && flagged->session().stale(),
               absl::StrCat("expected the reply flagged stale: ", flagged.status().ToString()))) {
    n.Saw(absl::StrCat(Values(*flagged), " flagged stale; bound ", BoundText(flagged->quorum())));
    n.Why("the application chose an answer it knows may be old over none");
  }

  n.Step(absl::StrCat("kvharness restart ", c.victim, "; the get again"));
  n.Expect(cluster.Restart(c.victim).ok(), "could not restart");
  // Until the other nodes' failure detectors see it up again.
  const absl::Time restarted = absl::Now();
  do {
    got = client->Get(c.key, within_t, &session);
  } while (!got.ok() && absl::Now() < restarted + absl::Seconds(10) &&
           (absl::SleepFor(absl::Milliseconds(100)), true));
  if (n.Expect(got.ok() && !got->session().stale() && got->quorum().has_staleness_bound_ms(),
               absl::StrCat("expected a proven bound again: ", got.status().ToString()))) {
    n.Saw(absl::StrCat(Values(*got), "; proven staleness bound ", BoundText(got->quorum()), ", ",
                       Ms(absl::Now() - restarted), " after the restart"));
    n.Why("every home replica answers again: strict overlap proves the reply current");
  }
  return n.Verdict();
}

}  // namespace quorumkv
