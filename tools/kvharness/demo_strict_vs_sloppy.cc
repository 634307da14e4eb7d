// `kvharness demo strict-vs-sloppy`: a home replica is cut off by a network
// partition, alive and still talking to clients. A strict write refuses; a
// sloppy one succeeds through a fallback that keeps a hint; the cut-off
// replica answers a read of its own with what it had, stale; after heal the
// hint goes home and a strict read of the home replicas finds the write.
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tools/common/output.h"
#include "tools/kvharness/demo_support.h"

namespace quorumkv {

int StrictVsSloppyDemo(LocalCluster& cluster) {
  Narrator n;
  absl::StatusOr<Cast> chosen = CastWithFallbacks(cluster, "strict-vs-sloppy", "demo/list-");
  if (!chosen.ok()) return NoCast(chosen.status());
  const Cast& c = *chosen;
  auto client = ClientFor(cluster, *cluster.EndpointOf(c.coordinator));
  auto cut_off = ClientFor(cluster, *cluster.EndpointOf(c.victim));
  const uint32_t all = c.n;

  n.Title(absl::StrCat("strict-vs-sloppy: a partition cuts a home replica off (N=", c.n,
                       ", W=", all, ")"));
  n.Step(absl::StrCat("where does ", c.key, " live?"));
  n.Saw(absl::StrCat("home replicas ", absl::StrJoin(c.pref.home, ", "), "; fallbacks ",
                     absl::StrJoin(c.pref.fallbacks, ", "), "; talking to ", c.coordinator));

  n.Step(absl::StrCat("put \"draft 1\" with W=", all));
  absl::StatusOr<v1::PutResponse> put = client->Put(c.key, "draft 1", {.w = all});
  if (n.Expect(put.ok(), absl::StrCat("put failed: ", put.status().ToString()))) {
    n.Saw(absl::StrCat("acked by ", Replied(put->quorum())));
  }
  const std::string context = put.ok() ? put->context() : "";

  n.Step(absl::StrCat("kvharness isolate ", c.victim,
                      ": every byte between it and the other nodes vanishes; clients still "
                      "reach it"));
  const absl::Time cut = absl::Now();
  n.Expect(cluster.Isolate(c.victim).ok(), "could not isolate the node");
  std::optional<v1::NodeStatus> seen =
      WaitForStatus(*client, c.victim, absl::Seconds(10),
                    [](const v1::NodeStatus& s) { return s.state() == "down"; });
  if (n.Expect(seen.has_value(), "the failure detector never called it down")) {
    n.Saw(absl::StrCat(c.coordinator, " calls ", c.victim, " down after ", Ms(absl::Now() - cut)));
    n.Why(
        "nothing is refused, the pings just go unanswered: suspect after 500 ms of silence, "
        "down after 2 s. The process itself is fine");
  }

  n.Step(absl::StrCat("put \"draft 2\" with W=", all, " --strict"));
  put = client->Put(c.key, "draft 2", {.w = all, .strict = true, .context = context});
  n.Expect(!put.ok() && put.status().code() == absl::StatusCode::kUnavailable,
           absl::StrCat("a strict put must fail with a home replica cut off: ",
                        put.status().ToString()));
  n.Saw(put.ok() ? "it succeeded" : std::string(put.status().message()));
  n.Why(
      "a strict quorum counts home replicas only. The coordinator knew one was unreachable and "
      "refused before writing: the client learns now, not at its deadline");

  n.Step(absl::StrCat("the same put, sloppy (the default)"));
  put = client->Put(c.key, "draft 2", {.w = all, .context = context});
  const std::vector<std::string> stand_ins =
      put.ok() ? StandIns(put->quorum()) : std::vector<std::string>{};
  if (n.Expect(put.ok() && !stand_ins.empty(),
               absl::StrCat("a sloppy put should succeed through a fallback: ",
                            put.status().ToString()))) {
    n.Saw(absl::StrCat("acked by ", Replied(put->quorum())));
    n.Why(absl::StrCat(stand_ins.front(), " took the write for ", c.victim,
                       " and keeps it as a hint. Availability, paid for with consistency: "
                       "the write is not on its home replicas yet"));
  }

  n.Step(absl::StrCat("a client on the other side of the cut reads from ", c.victim, " with R=1"));
  absl::StatusOr<v1::GetResponse> stale = cut_off->Get(c.key, {.r = 1});
  n.Expect(stale.ok() && LiveValues(*stale) == std::vector<std::string>{"draft 1"},
           absl::StrCat("expected the old [\"draft 1\"]: ", stale.status().ToString()));
  if (stale.ok()) {
    n.Saw(absl::StrCat(Values(*stale), " from ", Replied(stale->quorum()),
                       "; strict_overlap: ", stale->quorum().strict_overlap() ? "true" : "false"));
    n.Why(
        "a stale read, and the reply says so: one home replica answered, which proves nothing "
        "about writes acknowledged by the others");
  }
  n.Step(absl::StrCat("the same client asks ", c.victim, " for R=2"));
  stale = cut_off->Get(c.key, {.r = 2, .timeout = absl::Seconds(3)});
  n.Expect(!stale.ok(), "R=2 cannot be met from inside the cut");
  n.Saw(stale.ok() ? "it succeeded" : std::string(stale.status().message()));

  n.Step("kvharness heal, and watch the hint go home");
  const absl::Time healed = absl::Now();
  n.Expect(cluster.Heal().ok(), "could not heal");
  seen = WaitForStatus(*client, c.victim, absl::Seconds(30), [](const v1::NodeStatus& s) {
    return s.state() == "up" && s.hints_pending() == 0;
  });
  if (n.Expect(seen.has_value(), "the hint was not handed off within 30 s of the heal")) {
    n.Saw(absl::StrCat(c.victim, " up with 0 hints pending, ", Ms(absl::Now() - healed),
                       " after the heal"));
    n.Why(
        "the fallback's detector saw the home answer again and pushed the hint: a merge, never "
        "an overwrite");
  }

  n.Step(absl::StrCat("get with R=", all, " --strict: home replicas only"));
  absl::StatusOr<v1::GetResponse> got = client->Get(c.key, {.r = all, .strict = true});
  n.Expect(
      got.ok() && LiveValues(*got) == std::vector<std::string>{"draft 2"},
      absl::StrCat("expected [\"draft 2\"] from the home replicas: ", got.status().ToString()));
  if (got.ok()) {
    n.Saw(absl::StrCat(Values(*got), " from ", Replied(got->quorum())));
    n.Why(absl::StrCat(c.victim, " has the write the partition kept from it"));
  }
  return n.Verdict();
}

}  // namespace quorumkv
