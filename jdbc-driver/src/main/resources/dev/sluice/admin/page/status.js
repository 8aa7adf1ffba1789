/*
 * The status page: polls /api/status every second and renders it; the action buttons call the admin API's
 * POST endpoints with the token the operator pasted (kept in sessionStorage, never in the page or the URL).
 * Values are put into the DOM as text only, never as HTML: reasons and events carry server error texts.
 * window.sluice exposes the latest snapshot and each node's chart points (for tests and the curious).
 */
"use strict";

const TOKEN_KEY = "sluice-admin-token";
const POLL_MS = 1000;
/** Where this page's admin API is: "" at the root, "/shards/s1" for one shard of a sharded proxy. */
const BASE = location.pathname.replace(/\/+$/, "");
/** Event types that are steps of a failover or switchover: shown grouped under the step that started it. */
const STEP_START = /^(failover-started|switchover-started)$/;
const STEP_END = /(-finished|-aborted|-rolled-back|-failed)$/;
const FAILOVER_TYPES = /^(failover|switchover|candidate|applied-received|apply-incomplete|epoch|promoted|repoint|fence|fenced|writes-held|read-only|caught-up|target)/;
const LAG_TYPES = /^(dropped-for-lag|lagging|readmitted)$/;

const sluice = window.sluice = { status: null, points: {}, rates: {}, polls: 0, error: null };
const previousRouted = {};
let eventsKey = "";

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("data-")) e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

function showMessage(text, isError) {
  const m = $("message");
  m.textContent = text;
  m.className = isError ? "error" : "";
  m.hidden = false;
}

function showTokenState() {
  $("token-state").textContent = token() ? "token set for this tab" : "no token: actions will be refused";
}

/** POSTs to the admin API and shows its answer; the server decides (401/403 without a valid token). */
async function act(label, path, params) {
  const headers = {};
  if (token()) headers["Authorization"] = "Bearer " + token();
  showMessage(label + "…", false);
  try {
    const r = await fetch(BASE + path + "?" + new URLSearchParams(params), { method: "POST", headers });
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (r.ok) {
      showMessage(label + ": done" + (body && body.message ? " — " + body.message : ""), false);
    } else {
      const why = body && body.error ? body.error : r.statusText;
      showMessage(label + " refused (HTTP " + r.status + "): " + why, true);
    }
  } catch (e) {
    showMessage(label + " failed: " + e, true);
  }
  poll.now();
}

function nodeCard(name) {
  let card = document.querySelector('.node[data-node="' + CSS.escape(name) + '"]');
  if (card) return card;
  const field = (cls, label) => [el("dt", {}, label), el("dd", { class: cls })];
  card = el("article", { class: "node", "data-node": name },
    el("h3", {}, el("span", { class: "name" }, name), el("span", { class: "badge role" }), el("span", { class: "badge state" })),
    el("dl", {}, ...field("reason", "reason"), ...field("lag", "lag now"), ...field("rate", "statements/s"),
      ...field("conns", "open connections"), ...field("circuit", "circuit"), ...field("since", "since")),
    el("canvas", { class: "chart", "data-points": "[]" }),
    el("div", { class: "row" },
      el("button", { type: "button", class: "secondary drain", onclick: () => {
        const drained = card.dataset.state === "DRAINED";
        act((drained ? "undrain " : "drain ") + name, drained ? "/undrain" : "/drain", { node: name });
      } }, "Drain"),
      el("button", { type: "button", class: "secondary switch", onclick: () => {
        if (confirm("Switch over to " + name + "? Writes pause briefly.")) act("switchover to " + name, "/switchover", { to: name });
      } }, "Switchover here"),
      el("button", { type: "button", class: "secondary promote", onclick: () => {
        if (confirm("Promote " + name + "? Only when the primary is dead.")) act("promote " + name, "/promote", { node: name });
      } }, "Promote")));
  $("nodes").append(card);
  return card;
}

function renderNodes(st, nowMs) {
  const seen = new Set();
  for (const n of st.nodes) {
    seen.add(n.name);
    const card = nodeCard(n.name);
    card.className = "node " + n.state;
    card.dataset.state = n.state;
    card.dataset.role = n.role;
    card.querySelector(".role").textContent = n.role.toLowerCase();
    const state = card.querySelector(".state");
    state.textContent = n.state;
    state.className = "badge state " + n.state;
    card.querySelector(".reason").textContent = n.reason || "—";
    card.querySelector(".lag").textContent = n.role === "PRIMARY" ? "— (primary)" : formatMs(n.lagMillis)
      + (n.bytesBehind != null ? " · " + n.bytesBehind + " bytes behind" : "");
    card.querySelector(".circuit").textContent = n.circuit || "—";
    card.querySelector(".conns").textContent = n.openConnections == null ? "—" : String(n.openConnections);
    card.querySelector(".since").textContent = n.sinceMillis ? new Date(n.sinceMillis).toLocaleTimeString() : "—";
    // statements/s from the routed counter's growth between two polls
    const prev = previousRouted[n.name];
    if (prev && nowMs > prev.t) {
      sluice.rates[n.name] = Math.max(0, (n.routed - prev.routed) * 1000 / (nowMs - prev.t));
    }
    previousRouted[n.name] = { routed: n.routed, t: nowMs };
    const rate = sluice.rates[n.name];
    card.querySelector(".rate").textContent = rate == null ? "…" : rate.toFixed(rate < 10 ? 1 : 0) + " (total " + n.routed + ")";
    const drain = card.querySelector(".drain");
    drain.textContent = n.state === "DRAINED" ? "Undrain" : "Drain";
    const replica = n.role === "REPLICA";
    card.querySelector(".switch").hidden = !replica;
    card.querySelector(".promote").hidden = !replica;
    const points = (n.lagHistory || []).map(s => s.lagMillis);
    sluice.points[n.name] = points;
    const canvas = card.querySelector("canvas");
    canvas.dataset.points = JSON.stringify(points.slice(-60)); // the last minute: enough to read, small in the DOM
    drawLagChart(canvas, n.lagHistory || [], Math.floor(nowMs / 1000));
  }
  for (const card of document.querySelectorAll(".node")) {
    if (!seen.has(card.dataset.node)) card.remove();
  }
}

function renderCounts(tableId, rows) {
  const body = $(tableId).tBodies[0];
  body.replaceChildren(...(rows.length ? rows.map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", { class: "num" }, v)))
    : [el("tr", {}, el("td", { class: "muted", colSpan: 2 }, "none"))]));
}

/** Newest first; the steps of one failover or switchover are grouped under the event that started it. */
function renderEvents(events) {
  const key = events.length + ":" + (events.length ? events[events.length - 1].timeMillis : 0);
  if (key === eventsKey) return;
  eventsKey = key;
  const items = [];
  let group = null;
  for (const e of events) {
    const line = el("li", { class: FAILOVER_TYPES.test(e.type) ? "failover" : LAG_TYPES.test(e.type) ? "lag" : "" },
      el("time", {}, new Date(e.timeMillis).toLocaleTimeString()), el("span", { class: "type" }, e.type),
      e.node ? el("strong", {}, e.node + " ") : "", e.message || "");
    line.dataset.type = e.type;
    if (group && FAILOVER_TYPES.test(e.type) && !STEP_START.test(e.type)) {
      group.steps.append(el("li", {}, e.type + (e.node ? " " + e.node : "") + ": " + (e.message || "")));
      if (STEP_END.test(e.type)) group = null;
      continue;
    }
    if (STEP_START.test(e.type)) {
      group = { steps: el("ul") };
      line.append(group.steps);
    }
    items.push(line);
  }
  $("events").replaceChildren(...items.reverse());
  if (!items.length) $("events").append(el("li", { class: "muted" }, "no events yet"));
}

/** Cluster mode: every instance with the epoch it routes by, the leader, this instance's ZooKeeper session. */
function renderCoordination(c) {
  if (!c) return;
  $("coordination-summary").textContent = c.mode === "local"
    ? "single instance (no cluster mode): epoch " + c.epoch
    : "cluster mode (ZooKeeper) · this instance " + c.instance + " · leader " + (c.leader || "none elected")
      + " · shared epoch " + c.epoch + " · session " + c.sessionState
      + (c.writesAllowed ? "" : " · WRITES REFUSED: " + (c.writesRefusedReason || ""));
  const rows = (c.instances || []).map(i => {
    const tr = el("tr", { class: i.writesAllowed ? "" : "refused" },
      el("td", {}, i.name + (i.name === c.instance ? " (this one)" : "")), el("td", {}, i.leader ? "leader" : "follower"),
      el("td", { class: "num" }, i.epoch), el("td", {}, i.primary || "—"), el("td", {}, i.writesAllowed ? "allowed" : "refused"));
    tr.dataset.instance = i.name;
    return tr;
  });
  $("instances").tBodies[0].replaceChildren(...rows);
}

function bytes(n) {
  return n >= 1048576 ? (n / 1048576).toFixed(1) + " MiB" : n >= 1024 ? (n / 1024).toFixed(1) + " KiB" : n + " B";
}

/** The read cache: hit ratio, size against its bound, evictions, and what invalidated it (docs/cache.md). */
function renderCache(c) {
  const on = !!(c && c.enabled);
  $("cache-section").dataset.enabled = String(on);
  if (!on) {
    $("cache-summary").textContent = "off (cache: on in the cluster's options turns it on)";
  } else {
    $("cache-summary").textContent = "hit ratio " + (100 * c.hitRatio).toFixed(1) + "% (" + c.hits + " hits, " + c.misses + " misses)"
      + " · " + bytes(c.bytes) + " of " + bytes(c.maxBytes) + " in " + c.entries + " results"
      + " · " + c.evictions + " evicted, " + c.expirations + " expired · " + c.invalidations + " invalidations";
  }
  renderCounts("cache-invalidations", on ? Object.entries(c.invalidationsByTable || {}) : []);
  renderCounts("cache-bypassed", on ? Object.entries(c.bypassed || {}) : []);
}

function render(st) {
  const now = Date.now();
  sluice.status = st;
  $("cluster").textContent = st.cluster + " (" + st.engine + ")";
  const ups = st.nodes.filter(n => n.role === "REPLICA" && n.state === "UP").length;
  const replicas = st.nodes.filter(n => n.role === "REPLICA").length;
  $("summary").textContent = (st.primary ? "primary " + st.primary : "NO PRIMARY: " + (st.noPrimaryReason || "unknown"))
    + " · " + ups + "/" + replicas + " replicas serving reads"
    + (st.heartbeat ? " · lag unknown: " + st.heartbeat : "") + " · updated " + new Date(now).toLocaleTimeString();
  renderNodes(st, now);
  renderCache(st.cache);
  renderCounts("fallbacks", Object.entries(st.fallbacks || {}));
  $("unparsed").textContent = st.unparsed;
  renderCounts("unparsed-top", (st.unparsedTop || []).map(d => [d.digest, d.count]));
  renderEvents(st.events || []);
  renderCoordination(st.coordination);
  const select = $("demo-node");
  const names = st.nodes.filter(n => n.role === "REPLICA").map(n => n.name);
  if (select.options.length !== names.length) select.replaceChildren(...names.map(n => el("option", { value: n }, n)));
}

const poll = (() => {
  let timer = null;
  async function run() {
    clearTimeout(timer);
    try {
      const r = await fetch(BASE + "/api/status", { cache: "no-store" });
      if (!r.ok) throw new Error("HTTP " + r.status);
      render(await r.json());
      sluice.polls++;
      sluice.error = null;
    } catch (e) {
      sluice.error = String(e);
      $("summary").textContent = "cannot reach the admin API: " + e + " (retrying)";
    }
    clearTimeout(timer); // a poll.now() may have overlapped this run: keep one loop
    timer = setTimeout(run, POLL_MS);
  }
  return { start: run, now: run };
})();

async function detectDemo() {
  try {
    const r = await fetch("/demo", { cache: "no-store" });
    $("demo").hidden = !r.ok;
  } catch (e) {
    $("demo").hidden = true;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("token-form").addEventListener("submit", ev => {
    ev.preventDefault();
    const t = $("token").value.trim();
    if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
    $("token").value = "";
    showTokenState();
  });
  $("token-clear").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); showTokenState(); });
  $("switchover").addEventListener("click", () => {
    if (confirm("Planned switchover to the most advanced replica? Writes pause briefly.")) act("switchover", "/switchover", {});
  });
  $("promote").addEventListener("click", () => {
    if (confirm("Promote the most advanced replica? Only when the primary is dead.")) act("promote", "/promote", {});
  });
  $("demo-form").addEventListener("submit", ev => {
    ev.preventDefault();
    const node = $("demo-node").value, ms = $("demo-ms").value || "0";
    act("delay " + node + " by " + ms + " ms", "/demo/lag", { node, ms });
  });
  showTokenState();
  detectDemo();
  poll.start();
});
