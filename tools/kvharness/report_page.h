// The page of a scenario report (report.h): HTML, CSS and the script that
// draws the timeline from the run's data, which RenderReport puts in place
// of the DATA marker. Text from the run goes in through textContent only.
#ifndef QUORUMKV_TOOLS_KVHARNESS_REPORT_PAGE_H_
#define QUORUMKV_TOOLS_KVHARNESS_REPORT_PAGE_H_

namespace quorumkv {

inline constexpr char kReportPage[] = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>quorumkv scenario report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 20px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff; font-weight: 600; }
.pass { background: #2e7d32; } .fail { background: #c62828; }
table.checks { border-collapse: collapse; margin: 12px 0; }
table.checks td { padding: 3px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
table.checks ul { margin: 2px 0; padding-left: 18px; font-size: 13px; }
.muted { color: #666; }
#timeline-wrap { overflow-x: auto; border: 1px solid #ddd; }
svg text { font: 11px system-ui, sans-serif; }
.op { cursor: pointer; }
.op.violation { stroke: #d50000; stroke-width: 2.5; }
.op.flash { stroke: #000; stroke-width: 4; }
#details { font: 12px monospace; white-space: pre-wrap; background: #f6f6f6; padding: 8px; min-height: 3em; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 14px; height: 10px; margin-right: 4px; vertical-align: middle; }
a.oplink { cursor: pointer; }
</style></head>
<body>
<h1 id="title"></h1>
<div id="description" class="muted"></div>
<p><span id="verdict" class="verdict"></span> <span id="facts" class="muted"></span></p>
<table class="checks" id="checks"></table>
<div class="legend">
<span><i style="background:#43a047"></i>write ok</span><span><i style="background:#1e88e5"></i>read ok</span>
<span><i style="background:#8e24aa"></i>delete ok</span><span><i style="background:#fb8c00"></i>unknown outcome (info)</span>
<span><i style="background:#e53935"></i>failed</span><span><i style="background:#ffcdd2"></i>fault on a node</span>
<span><i style="background:none;border:2px solid #d50000"></i>shows a violated check</span>
</div>
<div id="timeline-wrap"><svg id="timeline" xmlns="http://www.w3.org/2000/svg"></svg></div>
<p class="muted">Click an operation for its details; hover for a summary.</p>
<div id="details"></div>
<script>
"use strict";
const DATA = /*DATA*/null;
const SVG = "http://www.w3.org/2000/svg";
const COLORS = {ok: {write: "#43a047", read: "#1e88e5", delete: "#8e24aa"},
                info: "#fb8c00", fail: "#e53935", pending: "#9e9e9e"};

function el(tag, attrs, parent, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function html(tag, text, parent, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

function describe(op) {
  let s = "op " + op.id + ": client " + op.c + " " + op.f + " " + op.k;
  if (op.v) s += " = " + op.v;
  s += "\n" + op.o + " (" + (op.s / 1e6).toFixed(3) + " s .. " +
       (op.e < 0 ? "never" : (op.e / 1e6).toFixed(3) + " s") + ")";
  if (op.dot) s += "\ndot " + op.dot;
  if (op.seen !== undefined) s += "\nsaw [" + op.seen + "]" + (op.found ? "" : " found:false");
  if (op.coord) s += "\ncoordinator " + op.coord + ", replied " + op.replied;
  if (op.fallbacks) s += ", fallbacks " + op.fallbacks;
  if (op.strict !== undefined) s += "\nstrict_overlap " + op.strict;
  if (op.err) s += "\n" + op.err;
  return s;
}

function header(violating) {
  document.getElementById("title").textContent = "Scenario " + DATA.name;
  document.getElementById("description").textContent = DATA.description;
  const failed = DATA.checks.filter(c => !c.passed).length;
  const verdict = document.getElementById("verdict");
  verdict.textContent = (DATA.checks.length - failed) + " passed, " + failed + " failed";
  verdict.classList.add(failed ? "fail" : "pass");
  const count = o => DATA.ops.filter(op => op.c >= 0 && op.o === o).length;
  document.getElementById("facts").textContent =
      "seed " + DATA.seed + " · " + DATA.nodes.length + " nodes · " + DATA.clients + " clients · " +
      count("ok") + " ok, " + count("fail") + " failed, " + count("info") + " unknown · " +
      DATA.nemesis.length + " nemesis events";
  const table = document.getElementById("checks");
  for (const c of DATA.checks) {
    const row = html("tr", undefined, table);
    html("td", c.passed ? "PASS" : "FAIL", row, c.passed ? "" : "fail");
    html("td", c.name, row);
    const cell = html("td", c.summary, row);
    if (c.problems.length) {
      let list = html("ul", undefined, cell);
      c.problems.forEach((p, i) => {
        if (i === 3) {
          const more = html("details", undefined, cell);
          html("summary", (c.problems.length - 3) + " more", more);
          list = html("ul", undefined, more);
        }
        html("li", p, list);
      });
    }
    if (!c.passed && c.ops.length) {
      const links = html("div", "operations: ", cell, "muted");
      for (const id of [...new Set(c.ops)].slice(0, 40)) {
        const a = html("a", "op " + id, links, "oplink");
        a.href = "#op-" + id;
        a.addEventListener("click", ev => { ev.preventDefault(); show(id); });
        links.appendChild(document.createTextNode(" "));
        violating.add(id);
      }
    }
  }
}

function show(id) {
  const op = DATA.ops[id];
  document.getElementById("details").textContent = describe(op);
  const bar = document.getElementById("op-" + id);
  if (!bar) return;
  bar.scrollIntoView({block: "center", inline: "center"});
  bar.classList.add("flash");
  setTimeout(() => bar.classList.remove("flash"), 1500);
}

function timeline(violating) {
  const svg = document.getElementById("timeline");
  const left = 150, laneH = 26, top = 24;
  const end = Math.max(DATA.end, 1);
  const width = Math.max(1000, Math.min(12000, Math.round(end / 4000)));
  const x = us => left + (Math.max(0, us) / end) * width;
  const lanes = [];
  for (const n of DATA.nodes) lanes.push({label: "node " + n, node: n});
  for (let c = 0; c < DATA.clients; c++) lanes.push({label: "client " + c, client: c});
  lanes.push({label: "final reads", client: -1});
  const laneY = new Map();
  lanes.forEach((l, i) => laneY.set(l.node !== undefined ? "n:" + l.node : "c:" + l.client, top + i * laneH));
  const height = top + lanes.length * laneH + 10;
  svg.setAttribute("width", left + width + 20);
  svg.setAttribute("height", height);
  // Seconds along the top.
  for (let s = 0; s * 1e6 <= end; s += Math.max(1, Math.round(end / 1e6 / 20))) {
    el("line", {x1: x(s * 1e6), x2: x(s * 1e6), y1: top - 4, y2: height, stroke: "#eee"}, svg);
    el("text", {x: x(s * 1e6) + 2, y: top - 8}, svg, s + " s");
  }
  lanes.forEach((l, i) => {
    const y = top + i * laneH;
    el("rect", {x: 0, y: y, width: left + width + 20, height: laneH,
                fill: i % 2 ? "#fafafa" : "#fff"}, svg);
    el("text", {x: 6, y: y + 17}, svg, l.label);
  });
  // Fault windows: shaded on their nodes' lanes, faintly across the clients'.
  for (const w of DATA.windows) {
    const y = laneY.get("n:" + w.node);
    if (y === undefined) continue;
    const r = el("rect", {x: x(w.s), y: y + 2, width: Math.max(2, x(w.e) - x(w.s)), height: laneH - 4,
                          fill: "#ffcdd2"}, svg);
    el("title", {}, r, w.cmd + " (" + (w.s / 1e6).toFixed(3) + " s .. " + (w.e / 1e6).toFixed(3) + " s)");
    el("text", {x: x(w.s) + 3, y: y + 17, fill: "#b71c1c"}, svg, w.cmd);
    el("rect", {x: x(w.s), y: top + DATA.nodes.length * laneH, width: Math.max(2, x(w.e) - x(w.s)),
                height: (DATA.clients + 1) * laneH, fill: "#ffcdd2", opacity: 0.15}, svg);
  }
  for (const n of DATA.nemesis) {
    const line = el("line", {x1: x(n.t), x2: x(n.t), y1: top, y2: height, stroke: n.err ? "#e53935" : "#b71c1c",
                             "stroke-dasharray": "3,3"}, svg);
    el("title", {}, line, n.cmd + (n.err ? " FAILED: " + n.err : ""));
  }
  if (DATA.heal >= 0) {
    el("line", {x1: x(DATA.heal), x2: x(DATA.heal), y1: top - 4, y2: height, stroke: "#2e7d32", "stroke-width": 2}, svg);
    el("text", {x: x(DATA.heal) - 3, y: height - 2, fill: "#2e7d32", "text-anchor": "end"}, svg,
       "final heal");
  }
  let drawn = 0;
  for (const op of DATA.ops) {
    const y = laneY.get("c:" + op.c);
    if (y === undefined) continue;
    const endUs = op.e < 0 ? end : op.e;
    const color = op.o === "ok" ? COLORS.ok[op.f] : COLORS[op.o];
    const h = op.f === "read" ? 10 : 16;
    const bar = el("rect", {id: "op-" + op.id, x: x(op.s), y: y + (laneH - h) / 2,
                            width: Math.max(1.5, x(endUs) - x(op.s)), height: h, fill: color,
                            class: "op" + (violating.has(op.id) ? " violation" : "")}, svg);
    el("title", {}, bar, describe(op));
    bar.addEventListener("click", () => show(op.id));
    drawn++;
  }
  return drawn;
}

const violating = new Set();
header(violating);
document.body.dataset.rendered = String(timeline(violating));
</script>
</body></html>
)HTML";

}  // namespace quorumkv

#endif  // QUORUMKV_TOOLS_KVHARNESS_REPORT_PAGE_H_
