#include "tools/kvharness/nemesis_command.h"

#include <algorithm>
#include <random>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/kvharness/links.h"

namespace quorumkv {

std::vector<std::string> NemesisWords(const std::string& command) {
  return absl::StrSplit(command, ' ', absl::SkipWhitespace());
}

namespace {

absl::Status Bad(const std::string& command, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("nemesis command \"", command, "\": ", why));
}

bool IsNode(const std::string& name, int nodes) {
  int number = 0;
  return name.size() > 1 && name[0] == 'n' && absl::SimpleAtoi(name.substr(1), &number) &&
         number >= 1 && number <= nodes && name == absl::StrCat("n", number);
}

bool IsEndpoint(const std::string& name, int nodes) {
  return name == "client" || name == "*" || IsNode(name, nodes);
}

// Checks the arguments of `words` (the command split in words).
absl::Status CheckArguments(const std::string& command, const std::vector<std::string>& w,
                            int nodes) {
  const std::string& verb = w[0];
  auto need = [&](size_t count) -> absl::Status {
    if (w.size() != count)
      return Bad(command, absl::StrCat(verb, " takes ", count - 1, " arguments"));
    return absl::OkStatus();
  };
  auto node_at = [&](size_t i) -> absl::Status {
    if (!IsNode(w[i], nodes)) return Bad(command, absl::StrCat("no node ", w[i]));
    return absl::OkStatus();
  };
  auto link_at = [&](size_t i) -> absl::Status {
    absl::StatusOr<std::pair<std::string, std::string>> link = ParseLink(w[i]);
    if (!link.ok()) return Bad(command, std::string(link.status().message()));
    if (!IsEndpoint(link->first, nodes) || !IsEndpoint(link->second, nodes)) {
      return Bad(command, absl::StrCat("unknown endpoint in ", w[i]));
    }
    return absl::OkStatus();
  };
  int64_t ms = 0;
  if (verb == "heal") return need(1);
  if (verb == "kill" || verb == "restart" || verb == "pause" || verb == "resume" ||
      verb == "isolate") {
    if (absl::Status s = need(2); !s.ok()) return s;
    return node_at(1);
  }
  if (verb == "partition") {
    if (w.size() != 4 || w[2] != "/") return Bad(command, "partition A,B / C");
    for (size_t i : {1, 3}) {
      for (const std::string& n : ParseSide(w[i])) {
        if (n != "client" && !IsNode(n, nodes)) return Bad(command, absl::StrCat("no node ", n));
      }
    }
    return absl::OkStatus();
  }
  if (verb == "drop" || verb == "reset") {
    if (absl::Status s = need(2); !s.ok()) return s;
    return link_at(1);
  }
  if (verb == "delay") {
    if (w.size() != 3 && !(w.size() == 5 && w[3] == "--jitter")) {
      return Bad(command, "delay SRC->DST MS [--jitter MS]");
    }
    if (absl::Status s = link_at(1); !s.ok()) return s;
    for (size_t i = 2; i < w.size(); i += 2) {
      if (!absl::SimpleAtoi(w[i], &ms) || ms < 0 || ms > 600000) {
        return Bad(command, "milliseconds must be 0..600000");
      }
    }
    return absl::OkStatus();
  }
  if (verb == "disk-full") {
    if (absl::Status s = need(3); !s.ok()) return s;
    if (w[2] != "on" && w[2] != "off") return Bad(command, "disk-full NODE on|off");
    return node_at(1);
  }
  if (verb == "skew") {
    if (absl::Status s = need(3); !s.ok()) return s;
    if (!absl::SimpleAtoi(w[2], &ms) || ms < -86'400'000 || ms > 86'400'000) {
      return Bad(command, "skew NODE MS, MS within a day");
    }
    return node_at(1);
  }
  return Bad(command,
             "unknown; one of partition, isolate, heal, delay, drop, reset, kill, restart, pause, "
             "resume, disk-full, skew");
}

// One random fault from `kind` and the command that undoes it.
std::pair<std::string, std::string> RandomFault(const std::string& kind, int nodes,
                                                std::mt19937_64& rng) {
  auto node = [&] { return absl::StrCat("n", 1 + rng() % nodes); };
  auto link = [&] {
    const std::string from = node();
    std::string to = node();
    while (to == from) to = node();
    return absl::StrCat(from, "->", to);
  };
  if (kind == "partition") {
    std::vector<std::string> a, b;
    const int cut = 1 + static_cast<int>(rng() % (nodes - 1));  // size of side a
    std::vector<int> order(nodes);
    for (int i = 0; i < nodes; ++i) order[i] = i + 1;
    std::shuffle(order.begin(), order.end(), rng);
    for (int i = 0; i < nodes; ++i) {
      (i < cut ? a : b).push_back(absl::StrCat("n", order[i]));
    }
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return {absl::StrCat("partition ", absl::StrJoin(a, ","), " / ", absl::StrJoin(b, ",")),
            "heal"};
  }
  if (kind == "isolate") return {absl::StrCat("isolate ", node()), "heal"};
  if (kind == "kill") {
    const std::string n = node();
    return {absl::StrCat("kill ", n), absl::StrCat("restart ", n)};
  }
  if (kind == "pause") {
    const std::string n = node();
    return {absl::StrCat("pause ", n), absl::StrCat("resume ", n)};
  }
  if (kind == "delay") {
    const std::string l = link();
    return {absl::StrCat("delay ", l, " ", 50 + rng() % 300, " --jitter 50"),
            absl::StrCat("delay ", l, " 0")};
  }
  if (kind == "drop") return {absl::StrCat("drop ", link()), "heal"};
  if (kind == "reset") return {absl::StrCat("reset ", link()), "heal"};
  const std::string n = node();  // disk-full
  return {absl::StrCat("disk-full ", n, " on"), absl::StrCat("disk-full ", n, " off")};
}

}  // namespace

absl::Status ValidateNemesisCommand(const std::string& command, int nodes) {
  const std::vector<std::string> w = NemesisWords(command);
  if (w.empty()) return Bad(command, "empty");
  return CheckArguments(command, w, nodes);
}

std::vector<v1::NemesisEvent> NemesisSchedule(const v1::Scenario& scenario, uint64_t seed) {
  std::vector<v1::NemesisEvent> events(scenario.nemesis().begin(), scenario.nemesis().end());
  const v1::RandomNemesis& random = scenario.random_nemesis();
  if (random.interval_ms() > 0 && random.kinds_size() > 0) {
    std::mt19937_64 rng(seed ^ 0x6e656d65736973ULL);  // "nemesis"
    const int nodes = static_cast<int>(scenario.nodes());
    const uint64_t interval = random.interval_ms();
    for (uint64_t t = interval; t + interval / 2 < scenario.duration_ms(); t += interval) {
      const std::string& kind = random.kinds(static_cast<int>(rng() % random.kinds_size()));
      auto [start, undo] = RandomFault(kind, nodes, rng);
      v1::NemesisEvent& s = events.emplace_back();
      s.set_at_ms(t);
      s.set_command(start);
      v1::NemesisEvent& u = events.emplace_back();
      u.set_at_ms(t + interval / 2);
      u.set_command(undo);
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a.at_ms() < b.at_ms(); });
  return events;
}

std::vector<std::string> NodesTouched(const std::string& command, int nodes) {
  const std::vector<std::string> w = NemesisWords(command);
  std::set<std::string> touched;
  auto add_endpoint = [&](const std::string& e) {
    if (e == "*") {
      for (int i = 1; i <= nodes; ++i) touched.insert(absl::StrCat("n", i));
    } else if (e != "client") {
      touched.insert(e);
    }
  };
  if (w.size() >= 2) {
    if (w[0] == "partition" && w.size() == 4) {
      for (const std::string& n : ParseSide(w[1])) add_endpoint(n);
      for (const std::string& n : ParseSide(w[3])) add_endpoint(n);
    } else if (w[0] == "drop" || w[0] == "reset" || w[0] == "delay") {
      absl::StatusOr<std::pair<std::string, std::string>> link = ParseLink(w[1]);
      if (link.ok()) {
        add_endpoint(link->first);
        add_endpoint(link->second);
      }
    } else if (w[0] != "heal") {
      add_endpoint(w[1]);
    }
  }
  return {touched.begin(), touched.end()};
}

bool EndsFault(const std::string& command) {
  const std::vector<std::string> w = NemesisWords(command);
  if (w.empty()) return false;
  if (w[0] == "heal" || w[0] == "restart" || w[0] == "resume") return true;
  if (w[0] == "disk-full") return w.size() == 3 && w[2] == "off";
  if (w[0] == "skew" || w[0] == "delay") return w.size() == 3 && w[2] == "0";
  return false;
}

namespace {

// What identifies a fault: "kill n1", "delay n1->n2", the whole partition.
std::string FaultKey(const std::vector<std::string>& w) {
  if (w[0] == "partition") return absl::StrJoin(w, " ");
  return w.size() > 1 ? absl::StrCat(w[0], " ", w[1]) : w[0];
}

}  // namespace

bool Undoes(const std::string& undo, const std::string& fault) {
  const std::vector<std::string> u = NemesisWords(undo);
  const std::vector<std::string> f = NemesisWords(fault);
  if (u.empty() || f.empty()) return false;
  const bool process_fault = f[0] == "kill" || f[0] == "pause";
  if (u[0] == "heal") return !process_fault;
  if (u.size() < 2 || f.size() < 2) return false;
  if (u[0] == "restart") return process_fault && f[1] == u[1];
  if (u[0] == "resume") return f[0] == "pause" && f[1] == u[1];
  return FaultKey(f) == FaultKey(u);  // disk-full N off, skew N 0, delay L 0
}

}  // namespace quorumkv
