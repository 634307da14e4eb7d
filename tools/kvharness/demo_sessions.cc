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
// unknown with a home replica down — refused then, or returned flagged
// stale when the session allows it.
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
  absl::StatusOr<Cast> cast = ChooseCast(*ClientFor(*endpoints), prefix);
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
  auto at_writer = ClientFor(*cluster.EndpointOf(writer));
  auto at_reader = ClientFor(*cluster.EndpointOf(reader));
  auto anywhere = ClientFor(EndpointsOf(cluster, reader_first));
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
  auto client = ClientFor(EndpointsOf(cluster, others));
  Session session;
  const ReadOptions within_1s{
      .r = 1, .timeout = absl::Seconds(10), .max_staleness = absl::Seconds(1)};

  n.Title(absl::StrCat("bounded-staleness: reads at most 1 s stale, proven (N=", c.n, ")"));
  n.Step(absl::StrCat("put \"price: 10\" to ", c.key, " with W=1"));
  absl::StatusOr<v1::PutResponse> put = client->Put(c.key, "price: 10", {.w = 1});
  if (n.Expect(put.ok(), absl::StrCat("put failed: ", put.status().ToString()))) {
    n.Saw(absl::StrCat("acked by ", Replied(put->quorum())));
  }

  n.Step("get with R=1, at most 1000 ms stale");
  absl::StatusOr<v1::GetResponse> got = client->Get(c.key, within_1s, &session);
  if (n.Expect(got.ok() && got->quorum().has_staleness_bound_ms() &&
                   got->quorum().staleness_bound_ms() == 0 && !got->session().stale(),
               absl::StrCat("expected a proven bound of 0: ", got.status().ToString()))) {
    SawSessionRead(n, *got);
    n.Saw(absl::StrCat("proven staleness bound: ", BoundText(got->quorum())));
    n.Why(absl::StrCat(
        "one replica of ", c.n,
        " proves nothing about writes acknowledged by the others: "
        "unknown staleness. The client asked every home replica: with all ",
        c.n, " answering, the reply reflects every acknowledged write (strict overlap), bound 0"));
  }

  n.Step(absl::StrCat("kvharness kill ", c.victim, " (a home replica of the key)"));
  n.Expect(cluster.Kill(c.victim).ok(), "could not kill");
  absl::StatusOr<v1::GetResponse> refused = client->Get(c.key, within_1s, &session);
  n.Step("the same get, at most 1000 ms stale");
  n.Expect(IsSessionGuaranteeFailure(refused.status()),
           absl::StrCat("expected bounded staleness not satisfiable: ",
                        refused.ok() ? BoundText(refused->quorum()) : refused.status().ToString()));
  n.Saw(refused.ok() ? Values(*refused) : std::string(refused.status().message()));
  n.Why(absl::StrCat("with ", c.victim,
                     " down no read can prove it reflects every acknowledged write: a write "
                     "acknowledged by ",
                     c.victim,
                     " alone may be missing. An honest \"unknown\" is refused "
                     "(kvctl exits 6)"));

  n.Step("the same get, allowing stale replies (kvctl --allow-stale)");
  ReadOptions allow = within_1s;
  allow.allow_stale = true;
  absl::StatusOr<v1::GetResponse> flagged = client->Get(c.key, allow, &session);
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
    got = client->Get(c.key, within_1s, &session);
  } while (!got.ok() && absl::Now() < restarted + absl::Seconds(10) &&
           (absl::SleepFor(absl::Milliseconds(100)), true));
  if (n.Expect(got.ok() && !got->session().stale() && got->quorum().has_staleness_bound_ms(),
               absl::StrCat("expected a proven bound again: ", got.status().ToString()))) {
    n.Saw(absl::StrCat(Values(*got), "; proven staleness bound ", BoundText(got->quorum()), ", ",
                       Ms(absl::Now() - restarted), " after the restart"));
  }
  n.Why(
      "today a bound is proven only by strict overlap (0). Freshness watermarks, advanced by "
      "handoff and anti-entropy, will prove bounds above 0 without every home replica");
  return n.Verdict();
}

}  // namespace quorumkv
