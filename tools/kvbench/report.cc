#include "tools/kvbench/report.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace quorumkv::bench {
namespace {

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

std::string Latencies(const OpStats& s) {
  if (s.latency.count() == 0) return "-";
  return absl::StrFormat("%.2f / %.2f / %.2f", Ms(s.latency.Percentile(0.5)),
                         Ms(s.latency.Percentile(0.99)), Ms(s.latency.Percentile(0.999)));
}

// "81+79+80": MiB per server process.
std::string MiBs(const std::vector<uint64_t>& bytes) {
  std::vector<std::string> parts;
  for (uint64_t b : bytes) parts.push_back(absl::StrFormat("%.0f", b / 1048576.0));
  return parts.empty() ? "-" : absl::StrJoin(parts, "+");
}

double UpdatesPerSecond(const TargetResult& r) {
  const double s = absl::ToDoubleSeconds(r.elapsed);
  return s > 0 ? static_cast<double>(r.update.latency.count()) / s : 0;
}

const TargetResult* Find(const std::vector<TargetResult>& results, const std::string& name) {
  for (const TargetResult& r : results) {
    if (r.name == name && r.status.ok()) return &r;
  }
  return nullptr;
}

// "2.31x" or "-" when either side has nothing.
std::string Ratio(double numerator, double denominator) {
  if (numerator <= 0 || denominator <= 0) return "-";
  return absl::StrFormat("%.2fx", numerator / denominator);
}

std::string Describe(const RunOptions& o) {
  const std::string keys =
      o.zipfian ? absl::StrFormat("zipfian theta=%.2f", o.theta) : std::string("uniform");
  const std::string loop =
      o.rate > 0 ? absl::StrFormat("open loop at %.0f ops/s", o.rate) : std::string("closed loop");
  const std::string bound =
      o.max_ops > 0 ? absl::StrCat("at most ", o.max_ops, " ops or ") : std::string();
  return absl::StrFormat(
      "workload %s (%s), %d keys %s, %d B values, %d clients %s, %s%s per target", o.workload.name,
      o.workload.describe, o.keys, keys, o.value_bytes, o.concurrency, loop, bound,
      absl::FormatDuration(o.duration));
}

nlohmann::json OpJson(const OpStats& s) {
  return {{"ok", s.latency.count()},
          {"errors", s.errors},
          {"first_error", s.first_error},
          {"p50_ms", Ms(s.latency.Percentile(0.5))},
          {"p99_ms", Ms(s.latency.Percentile(0.99))},
          {"p999_ms", Ms(s.latency.Percentile(0.999))},
          {"max_ms", Ms(s.latency.max())},
          {"mean_ms", Ms(s.latency.mean())}};
}

}  // namespace

std::string DescribeMachine() {
  utsname u{};
  uname(&u);
  const double gib =
      static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE) / (1ull << 30);
  return absl::StrFormat("%u cores, %.0f GiB, %s %s", std::thread::hardware_concurrency(), gib,
                         u.sysname, u.release);
}

std::string TextReport(const RunOptions& options, const Environment& env,
                       const std::vector<TargetResult>& results) {
  std::string out = absl::StrCat("kvbench: ", Describe(options), "\n");
  absl::StrAppendFormat(&out, "machine: %s; disk: %.0f fsync/s (4 KiB write + fdatasync)\n\n",
                        env.machine, env.fsync_per_second);
  absl::StrAppendFormat(&out, "%-9s %9s  %-26s %-26s %7s  %-10s %s\n", "target", "ops/s",
                        "read p50/p99/p99.9 ms", "update p50/p99/p99.9 ms", "errors", "CPU us/op",
                        "server RSS MiB");
  for (const TargetResult& r : results) {
    if (!r.status.ok()) {
      absl::StrAppendFormat(&out, "%-9s FAILED: %s\n", r.name, r.status.ToString());
      continue;
    }
    absl::StrAppendFormat(&out, "%-9s %9.0f  %-26s %-26s %7d  %-10.0f %s\n", r.name,
                          r.ops_per_second(), Latencies(r.read), Latencies(r.update),
                          r.read.errors + r.update.errors, r.server_cpu_us_per_op(),
                          MiBs(r.rss_bytes));
  }
  out += "\n";
  for (const TargetResult& r : results) {
    absl::StrAppendFormat(&out, "  %-9s %s; loaded %d keys in %.1f s%s\n", r.name, r.description,
                          r.loaded, absl::ToDoubleSeconds(r.load_time),
                          r.loaded_directly ? " (written to storage directly)" : "");
    absl::StrAppendFormat(&out,
                          "            server RSS after the run: %s MiB, of which anonymous %s\n",
                          MiBs(r.rss_bytes), MiBs(r.anon_rss_bytes));
    absl::StrAppendFormat(&out,
                          "            CPU per op during the run: servers %.0f us, kvbench's "
                          "clients %.0f us\n",
                          r.server_cpu_us_per_op(), r.client_cpu_us_per_op());
    for (const OpStats* s : {&r.read, &r.update}) {
      if (!s->first_error.empty()) {
        absl::StrAppendFormat(&out, "            first error: %s\n", s->first_error);
      }
    }
    if (!r.note.empty()) absl::StrAppendFormat(&out, "            %s\n", r.note);
    for (size_t i = 0; i < r.repairs.size(); ++i) {
      const RepairMeasure& m = r.repairs[i];
      absl::StrAppendFormat(
          &out,
          "            repair round %d of the last node: %.2f s, %s; %d pairs compared, %d "
          "hashes, %d keys differing, %d merges; received %d bytes, sent %d\n",
          i + 1, absl::ToDoubleSeconds(m.elapsed), m.complete ? "complete" : "INCOMPLETE",
          m.exchanges, m.hashes_compared, m.keys_differing, m.keys_repaired, m.bytes_received,
          m.bytes_sent);
    }
  }
  const TargetResult* us = Find(results, "quorumkv");
  if (us != nullptr && results.size() > 1) {
    out +=
        "\nquorumkv vs each: throughput ratio (>1: quorumkv does more); p99 and server CPU per "
        "op ratios (>1: quorumkv's is lower)\n";
    for (const TargetResult& r : results) {
      if (&r == us || !r.status.ok()) continue;
      absl::StrAppendFormat(
          &out, "  vs %-6s throughput %s   read p99 %s   update p99 %s   CPU/op %s\n", r.name,
          Ratio(us->ops_per_second(), r.ops_per_second()),
          Ratio(Ms(r.read.latency.Percentile(0.99)), Ms(us->read.latency.Percentile(0.99))),
          Ratio(Ms(r.update.latency.Percentile(0.99)), Ms(us->update.latency.Percentile(0.99))),
          Ratio(r.server_cpu_us_per_op(), us->server_cpu_us_per_op()));
    }
  }
  const TargetResult* repairing = Find(results, "quorumkv-repairing");
  const TargetResult* idle = Find(results, "quorumkv-missing");
  if (repairing != nullptr && idle != nullptr) {
    absl::StrAppendFormat(
        &out,
        "\nwhat an anti-entropy round costs clients: quorumkv-repairing over quorumkv-missing (the "
        "same cluster, anti-entropy off)\n  read p99 %s   update p99 %s   throughput %s   CPU/op "
        "%s\n",
        Ratio(Ms(repairing->read.latency.Percentile(0.99)),
              Ms(idle->read.latency.Percentile(0.99))),
        Ratio(Ms(repairing->update.latency.Percentile(0.99)),
              Ms(idle->update.latency.Percentile(0.99))),
        Ratio(repairing->ops_per_second(), idle->ops_per_second()),
        Ratio(repairing->server_cpu_us_per_op(), idle->server_cpu_us_per_op()));
  }
  if (env.fsync_per_second > 0 && options.workload.read_fraction < 1) {
    out += "\ndurable updates/s against the disk's fsync rate (group commit lifts it above 1x)\n";
    for (const TargetResult& r : results) {
      if (!r.status.ok()) continue;
      absl::StrAppendFormat(&out, "  %-9s %8.0f updates/s = %s\n", r.name, UpdatesPerSecond(r),
                            Ratio(UpdatesPerSecond(r), env.fsync_per_second));
    }
  }
  return out;
}

nlohmann::json JsonReport(const RunOptions& options, const Environment& env,
                          const std::vector<TargetResult>& results) {
  nlohmann::json out = {{"workload", options.workload.name},
                        {"read_fraction", options.workload.read_fraction},
                        {"keys", options.keys},
                        {"distribution", options.zipfian ? "zipfian" : "uniform"},
                        {"theta", options.theta},
                        {"value_bytes", options.value_bytes},
                        {"concurrency", options.concurrency},
                        {"rate", options.rate},
                        {"duration_s", absl::ToDoubleSeconds(options.duration)},
                        {"machine", env.machine},
                        {"fsync_per_second", env.fsync_per_second},
                        {"targets", nlohmann::json::array()}};
  for (const TargetResult& r : results) {
    nlohmann::json t = {{"name", r.name}, {"description", r.description}, {"ok", r.status.ok()}};
    if (!r.status.ok()) t["error"] = r.status.ToString();
    t["loaded"] = r.loaded;
    t["load_s"] = absl::ToDoubleSeconds(r.load_time);
    t["loaded_directly"] = r.loaded_directly;
    t["elapsed_s"] = absl::ToDoubleSeconds(r.elapsed);
    t["ops_per_second"] = r.ops_per_second();
    t["read"] = OpJson(r.read);
    t["update"] = OpJson(r.update);
    t["rss_bytes"] = r.rss_bytes;
    t["anon_rss_bytes"] = r.anon_rss_bytes;
    t["server_cpu_seconds"] = r.server_cpu_seconds;
    t["server_cpu_us_per_op"] = r.server_cpu_us_per_op();
    t["client_cpu_seconds"] = r.client_cpu_seconds;
    t["client_cpu_us_per_op"] = r.client_cpu_us_per_op();
    if (!r.note.empty()) t["note"] = r.note;
    if (!r.repairs.empty()) {
      t["repair_rounds"] = nlohmann::json::array();
      for (const RepairMeasure& m : r.repairs) {
        t["repair_rounds"].push_back({{"seconds", absl::ToDoubleSeconds(m.elapsed)},
                                      {"complete", m.complete},
                                      {"exchanges", m.exchanges},
                                      {"hashes_compared", m.hashes_compared},
                                      {"keys_differing", m.keys_differing},
                                      {"keys_repaired", m.keys_repaired},
                                      {"bytes_received", m.bytes_received},
                                      {"bytes_sent", m.bytes_sent}});
      }
    }
    out["targets"].push_back(std::move(t));
  }
  return out;
}

absl::Status WriteSvgCdf(const std::vector<TargetResult>& results, const std::string& path) {
  constexpr double kW = 720, kH = 420, kLeft = 60, kBottom = 40, kTop = 30, kRight = 20;
  constexpr double kMinMs = 0.01, kMaxMs = 10000;
  auto x = [&](double ms) {
    const double f = (std::log10(std::clamp(ms, kMinMs, kMaxMs)) - std::log10(kMinMs)) /
                     (std::log10(kMaxMs) - std::log10(kMinMs));
    return kLeft + f * (kW - kLeft - kRight);
  };
  auto y = [&](double fraction) { return kH - kBottom - fraction * (kH - kBottom - kTop); };
  const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};
  std::string svg = absl::StrFormat(
      "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' font-family='sans-serif' "
      "font-size='12'>\n<rect width='100%%' height='100%%' fill='white'/>\n"
      "<text x='%.0f' y='18'>latency CDF, all operations (log scale)</text>\n",
      kW, kH, kLeft);
  for (double ms = kMinMs; ms <= kMaxMs * 1.01; ms *= 10) {
    absl::StrAppendFormat(&svg,
                          "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>"
                          "<text x='%.1f' y='%.1f' text-anchor='middle'>%g ms</text>\n",
                          x(ms), y(0), x(ms), y(1), x(ms), kH - kBottom + 16, ms);
  }
  for (double f : {0.0, 0.5, 0.9, 0.99, 1.0}) {
    absl::StrAppendFormat(&svg,
                          "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/>"
                          "<text x='%.1f' y='%.1f' text-anchor='end'>%g</text>\n",
                          x(kMinMs), y(f), x(kMaxMs), y(f), kLeft - 6, y(f) + 4, f);
  }
  int i = 0;
  for (const TargetResult& r : results) {
    if (!r.status.ok()) continue;
    Histogram all = r.read.latency;
    all.Merge(r.update.latency);
    std::string points;
    for (const auto& [latency, fraction] : all.Cdf()) {
      absl::StrAppendFormat(&points, "%.1f,%.1f ", x(Ms(latency)), y(fraction));
    }
    const char* color = colors[i % 5];
    absl::StrAppendFormat(&svg,
                          "<polyline fill='none' stroke='%s' stroke-width='2' points='%s'/>\n"
                          "<text x='%.0f' y='%.0f' fill='%s'>%s</text>\n",
                          color, points, kW - 140, kTop + 20 + 16 * i, color, r.name);
    ++i;
  }
  svg += "</svg>\n";
  std::ofstream file(path);
  file << svg;
  if (!file) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace quorumkv::bench
