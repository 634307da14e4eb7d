// `kvharness demo sloppy-quorum`: a home replica dies; a strict write fails
// (and is still partly applied); a sloppy retry succeeds through a fallback
// that keeps a hint; the home comes back and the hint is handed off; a
// strict read of the home replicas alone then finds the write.
#include <algorithm>
#include <cstdio>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "replication/ring.h"
#include "tools/common/output.h"
#include "tools/kvharness/demo_support.h"

namespace quorumkv {

int SloppyQuorumDemo(LocalCluster& cluster) {
  Narrator n;
  absl::StatusOr<Cast> chosen = CastWithFallbacks(cluster, "sloppy-quorum", "demo/cart-");
  if (!chosen.ok()) return NoCast(chosen.status());
  const Cast& c = *chosen;
  auto client = ClientFor(cluster, *cluster.EndpointOf(c.coordinator));
  const uint32_t all = c.n;

  n.Title(
      absl::StrCat("sloppy-quorum: a fallback stands in for a dead home replica, then hands "
                   "the write back (N=",
                   c.n, ", W=", all, ")"));
  n.Step(absl::StrCat("where does ", c.key, " live?"));
  n.Saw(absl::StrCat("home replicas ", absl::StrJoin(c.pref.home, ", "), "; fallbacks ",
                     absl::StrJoin(c.pref.fallbacks, ", "), "; talking to ", c.coordinator));

  n.Step(absl::StrCat("put \"milk\" with W=", all, ": every home replica must ack"));
  absl::StatusOr<v1::PutResponse> put = client->Put(c.key, "milk", {.w = all});
  if (n.Expect(put.ok(), absl::StrCat("put failed: ", put.status().ToString()))) {
    n.Saw(absl::StrCat("acked by ", Replied(put->quorum())));
  }
  const std::string context = put.ok() ? put->context() : "";

  n.Step(absl::StrCat("kill -9 ", c.victim, ", a home replica of the key"));
  const absl::Time killed = absl::Now();
  n.Expect(cluster.Kill(c.victim).ok(), "could not kill the node");
  std::optional<v1::NodeStatus> seen =
      WaitForStatus(*client, c.victim, absl::Seconds(10),
                    [](const v1::NodeStatus& s) { return s.state() != "up"; });
  if (n.Expect(seen.has_value(), "the failure detector never noticed")) {
    n.Saw(absl::StrCat(c.coordinator, " calls ", c.victim, " ", seen->state(), " after ",
                       Ms(absl::Now() - killed)));
    n.Why(
        "its pings to the node are refused (the process is gone); a node that just stops "
        "answering is suspect after 500 ms and down after 2 s");
  }

  n.Step(absl::StrCat("put \"milk, eggs\" with W=", all, " --strict"));
  put = client->Put(c.key, "milk, eggs", {.w = all, .strict = true, .context = context});
  n.Expect(
      !put.ok() && put.status().code() == absl::StatusCode::kUnavailable,
      absl::StrCat("a strict put with a home replica down must fail: ", put.status().ToString()));
  n.Saw(put.ok() ? "it succeeded" : std::string(put.status().message()));
  const bool refused_up_front =
      !put.ok() && absl::StrContains(put.status().message(), "nothing written");
  n.Why(absl::StrCat(
      "a strict quorum counts home replicas only, and only ", all - 1, " of ", all, " are alive",
      refused_up_front ? ". The coordinator's failure detector already knew, so it refused the "
                         "put before writing anything, as Cassandra's UnavailableException does"
                       : ""));

  n.Step("get with the default R");
  absl::StatusOr<v1::GetResponse> got = client->Get(c.key);
  n.Expect(got.ok(), absl::StrCat("get failed: ", got.status().ToString()));
  if (got.ok()) {
    n.Saw(absl::StrCat(Values(*got), " from ", Replied(got->quorum())));
    n.Why(refused_up_front
              ? "the refused put left nothing behind. A retry carries the context of this read "
                "all the same: it replaces exactly what this read saw"
              : "a failed write is not undone: UNAVAILABLE after replicas were asked says the "
                "quorum was not met, not that nothing was written. A retry should carry the "
                "context of this read, so that it replaces what the failed attempt left instead "
                "of becoming its sibling");
  }

  n.Step("retry, sloppy (the default), as \"milk, eggs, bread\" with that context");
  put = client->Put(c.key, "milk, eggs, bread",
                    {.w = all, .context = got.ok() ? got->context() : context});
  const std::vector<std::string> stand_ins =
      put.ok() ? StandIns(put->quorum()) : std::vector<std::string>{};
  if (n.Expect(put.ok() && !stand_ins.empty(),
               absl::StrCat("a sloppy put should succeed through a fallback: ",
                            put.status().ToString()))) {
    n.Saw(absl::StrCat("acked by ", Replied(put->quorum())));
    n.Why(absl::StrCat(stand_ins.front(), " took the write for ", c.victim,
                       ": it stored it durably in its hint store, tagged with ", c.victim,
                       ", before it acked"));
  }
  seen = WaitForStatus(*client, c.victim, absl::Seconds(5),
                       [](const v1::NodeStatus& s) { return s.hints_pending() > 0; });
  if (n.Expect(seen.has_value(), "status shows no hint pending")) {
    n.Saw(absl::StrCat("kvctl status: ", c.victim, " ", seen->state(), ", ", seen->hints_pending(),
                       " hint pending (", seen->hint_bytes(), " bytes)"));
  }

  n.Step(absl::StrCat("get with R=", all, " (sloppy)"));
  got = client->Get(c.key, {.r = all});
  n.Expect(got.ok() && LiveValues(*got) == std::vector<std::string>{"milk, eggs, bread"},
           absl::StrCat("expected [\"milk, eggs, bread\"]: ", got.status().ToString()));
  if (got.ok()) {
    n.Saw(absl::StrCat(Values(*got), " from ", Replied(got->quorum())));
    n.Why("the fallback answers for the dead home replica from its hint");
  }

  n.Step(absl::StrCat("restart ", c.victim, " and watch the hint go home"));
  n.Expect(cluster.Restart(c.victim).ok(), "could not restart the node");
  const absl::Time back = absl::Now();
  seen = WaitForStatus(*client, c.victim, absl::Seconds(20),
                       [](const v1::NodeStatus& s) { return s.hints_pending() == 0; });
  if (n.Expect(seen.has_value(), "the hint was not handed off within 20 s")) {
    n.Saw(absl::StrCat("0 hints pending ", Ms(absl::Now() - back), " after ", c.victim,
                       " was ready"));
    n.Why(absl::StrCat("once its failure detector saw ", c.victim,
                       " up, the fallback pushed the hint (a merge, never an overwrite) and "
                       "deleted it after the durable ack"));
  }

  const std::string stand_in = stand_ins.empty() ? "" : stand_ins.front();
  if (!stand_in.empty()) {
    n.Step(absl::StrCat("kill -9 the fallback ", stand_in, ", then get with R=", all,
                        " --strict: home replicas only"));
    n.Expect(cluster.Kill(stand_in).ok(), "could not kill the fallback");
    got = client->Get(c.key, {.r = all, .strict = true});
    n.Expect(got.ok() && LiveValues(*got) == std::vector<std::string>{"milk, eggs, bread"},
             absl::StrCat("expected [\"milk, eggs, bread\"] from the home replicas: ",
                          got.status().ToString()));
    if (got.ok()) {
      n.Saw(absl::StrCat(Values(*got), " from ", Replied(got->quorum())));
      n.Why(absl::StrCat(c.victim, " has the write now: the handoff delivered it"));
    }
    n.Step(absl::StrCat("restart ", stand_in, " (leave the cluster whole)"));
    n.Expect(cluster.Restart(stand_in).ok(), "could not restart the fallback");
  }
  return n.Verdict();
}

}  // namespace quorumkv
