// The Sentinel dashboard: reads the admin API with this tab's token and
// follows its event stream. Everything it shows that a script or an operator
// wrote is inserted as text (textContent, text nodes), never as HTML, and
// every action is a POST /v1/commands, authorized and audited by the server.
"use strict";

const TOKEN_KEY = "sentinel.token";
const PIPELINE_POLL_MS = 5_000;   // the sparklines' sampling
const STATE_POLL_MS = 30_000;     // a backstop: audit events trigger a refresh at once
const SERIES_POINTS = 60;         // 5 minutes of samples
const TIMELINE_SIZE = 300;
const STREAM_SILENCE_MS = 45_000; // the server writes a keepalive every 15 s
const RETRY_MAX_MS = 30_000;
const CATCH_UP_LIMIT = 1000;      // the most /v1/audit gives at once

const $ = (id) => document.getElementById(id);

const session = {
  token: null,
  whoami: null,
  stream: null,          // AbortController of the event stream
  generation: 0,         // bumps on sign-out so stale loops stop
  lastHeard: 0,
  everConnected: false,
  lastAuditTime: null,   // newest audit entry time seen (RFC 3339), for the catch-up
};

// ---- DOM: text only --------------------------------------------------------

/** An element with attributes (strings, set as attributes) and children (nodes or text). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/** Replaces a container's children and gives the focus back to the control that had it. */
function replaceKeepingFocus(container, children) {
  const focused = document.activeElement;
  const key = focused && container.contains(focused) ? (focused.dataset.key || focused.parentElement?.dataset.key) : undefined;
  const open = new Set(Array.from(container.querySelectorAll("details[open][data-key]"), (d) => d.dataset.key));
  container.replaceChildren(...children);
  for (const details of container.querySelectorAll("details[data-key]")) if (open.has(details.dataset.key)) details.open = true;
  if (!key) return;
  const target = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
  (target && target.tagName === "DETAILS" ? target.querySelector("summary") : target)?.focus();
}

// ---- Formatting --------------------------------------------------------------

function seconds(value) {
  if (!Number.isFinite(value) || value === 0) return "0";
  if (value < 0.001) return `${(value * 1e6).toFixed(0)} µs`;
  if (value < 1) return `${(value * 1000).toFixed(value < 0.01 ? 1 : 0)} ms`;
  if (value < 120) return `${value.toFixed(value < 10 ? 2 : 1)} s`;
  return duration(value);
}

function duration(total) {
  const s = Math.max(0, Math.round(total));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  if (h) return `${h}h ${m}m`;
  if (m) return r ? `${m}m ${r}s` : `${m}m`;
  return `${r}s`;
}

function percent(rate) {
  if (!Number.isFinite(rate)) return "–";
  const p = rate * 100;
  return `${p === 0 ? "0" : p < 1 ? p.toFixed(2) : p.toFixed(1)} %`;
}

function number(value) {
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

function knobValue(value, unit) {
  if (value === null || value === undefined) return "–";
  if (unit === "s") return seconds(value);
  if (unit === "percent") return `${number(value)} %`;
  return number(value);
}

function clock(time) {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return String(time);
  const text = date.toLocaleTimeString([], { hour12: false });
  return date.toDateString() === new Date().toDateString() ? text : `${date.toLocaleDateString()} ${text}`;
}

function timeElement(time) {
  return el("time", { datetime: time, title: time }, clock(time));
}

// ---- The API -----------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message, audit) {
    super(message);
    this.status = status;
    this.code = code;
    this.audit = audit;
  }
}

async function api(path, body) {
  const headers = { Authorization: `Bearer ${session.token}` };
  const options = { headers, cache: "no-store", redirect: "error" };
  if (body !== undefined) {
    options.method = "POST";
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new ApiError(0, "unreachable", `the sentinel at ${location.origin} cannot be reached (${error.message})`);
  }
  let json = null;
  try { json = await response.json(); } catch { /* not JSON: described below */ }
  if (!response.ok) {
    const failure = json && json.error;
    throw new ApiError(response.status, failure ? failure.code : `http_${response.status}`,
      failure ? failure.message : `the server answered ${response.status} ${response.statusText}`, failure && failure.audit);
  }
  return json;
}

/** An API call whose 401 signs the page out: the token was revoked meanwhile. */
async function read(path) {
  try {
    return await api(path);
  } catch (error) {
    if (error.status === 401) signOut("The server no longer accepts this token (401): it may have been revoked. Sign in again.");
    throw error;
  }
}

function allowed(command) {
  return Boolean(session.whoami && session.whoami.allowed_commands.includes(command));
}

// ---- Signing in and out ----------------------------------------------------

async function signIn(token) {
  session.token = token;
  $("sign-in-error").textContent = "";
  setConnection("connecting", "Signing in…");
  let whoami;
  try {
    whoami = await api("/v1/whoami");
  } catch (error) {
    session.token = null;
    setConnection("signed-out", "Not signed in");
    if (error.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      $("sign-in-error").textContent =
        "The server refused this token (401 unauthorized). Check it against the tokens file: the server keeps only its SHA-256.";
    } else {
      // The server is restarting or unreachable: the token may be fine, keep it for another try.
      $("token").value = token;
      $("sign-in-error").textContent = `Cannot sign in: ${error.message}. Press Sign in to try again.`;
    }
    $("token").focus();
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  session.whoami = whoami;
  session.generation += 1;
  $("identity-name").textContent = `Signed in as ${whoami.identity}`;
  $("identity").hidden = false;
  $("sign-in").hidden = true;
  $("dashboard").hidden = false;
  $("token").value = "";
  $("freeze").hidden = !allowed("automation.freeze");
  followEvents(session.generation);
  refreshState();
  refreshPipelines();
}

function signOut(message) {
  session.generation += 1;
  session.stream?.abort();
  session.stream = null;
  session.token = null;
  session.whoami = null;
  session.everConnected = false;
  session.lastAuditTime = null;
  timeline.clear();
  series.clear();
  sessionStorage.removeItem(TOKEN_KEY);
  $("dashboard").hidden = true;
  $("identity").hidden = true;
  $("frozen-banner").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message || "";
  setConnection("signed-out", "Not signed in");
  if ($("action-dialog").open) $("action-dialog").close();
}

function setConnection(state, text) {
  const node = $("connection");
  node.dataset.state = state;
  node.textContent = text;
}

// ---- The event stream --------------------------------------------------------

/** Follows /v1/events until sign-out, reconnecting with backoff; says so while it is down. */
async function followEvents(generation) {
  let delay = 1_000;
  while (generation === session.generation) {
    const controller = new AbortController();
    session.stream = controller;
    session.lastHeard = Date.now();
    try {
      const response = await fetch("/v1/events", {
        headers: { Authorization: `Bearer ${session.token}` }, cache: "no-store", signal: controller.signal,
      });
      if (response.status === 401) {
        signOut("The server no longer accepts this token (401): it may have been revoked. Sign in again.");
        return;
      }
      if (!response.ok || !response.body) {
        let message = `the event stream answered ${response.status}`;
        try { message = (await response.json()).error.message; } catch { /* keep the status */ }
        throw new Error(message);
      }
      session.lastHeard = Date.now();
      const reconnected = session.everConnected;
      session.everConnected = true;
      delay = 1_000;
      setConnection("live", reconnected ? `Live (reconnected at ${clock(new Date().toISOString())})` : "Live");
      catchUp(reconnected);
      if (reconnected) { refreshState(); refreshPipelines(); }
      await readEvents(response.body, generation);
      throw new Error("the event stream ended");
    } catch (error) {
      if (generation !== session.generation) return;
      const why = controller.signal.aborted ? `nothing heard for ${STREAM_SILENCE_MS / 1000} s` : error.message;
      setConnection("down",
        `Disconnected at ${clock(new Date().toISOString())} (${why}). Retrying in ${delay / 1000} s; what is shown may be out of date.`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, RETRY_MAX_MS);
      if (generation === session.generation) setConnection("connecting", "Reconnecting…");
    }
  }
}

/** Reads Server-Sent Events: blocks separated by a blank line, `event:` and `data:` fields, `:` comments. */
async function readEvents(body, generation) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done || generation !== session.generation) return;
    session.lastHeard = Date.now();
    // CRLF and CR end lines too (a proxy may rewrite them); a CR at the end may be half of a CRLF.
    buffer += value;
    const held = buffer.endsWith("\r") ? "\r" : "";
    buffer = buffer.slice(0, buffer.length - held.length).replace(/\r\n?/g, "\n") + held;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") type = text;
        else if (field === "data") data.push(text);
      }
      if (data.length) handleEvent(type, data.join("\n"));
    }
  }
}

function handleEvent(type, data) {
  let value;
  try { value = JSON.parse(data); } catch { return; }
  if (type === "audit") {
    timeline.add({ kind: "audit", entry: value }, true);
    scheduleStateRefresh();
  } else if (type === "alert") {
    timeline.add({ kind: "alert", entry: value }, true);
  }
}

/** The newest decisions at sign-in, and after a reconnect the ones missed while disconnected. */
async function catchUp(reconnected) {
  const generation = session.generation;
  let query = "?limit=100";
  if (reconnected && session.lastAuditTime) {
    // Audit times are rounded to the millisecond: ask from one earlier; the timeline drops what it has.
    const since = new Date(new Date(session.lastAuditTime).getTime() - 1).toISOString();
    query = `?since=${encodeURIComponent(since)}&limit=${CATCH_UP_LIMIT}`;
  }
  try {
    const { entries } = await read(`/v1/audit${query}`);
    if (generation !== session.generation) return;
    for (const entry of entries) timeline.add({ kind: "audit", entry }, reconnected);
    if (reconnected && entries.length >= CATCH_UP_LIMIT) {
      setConnection("live", `Live (reconnected; more than ${CATCH_UP_LIMIT} decisions were made meanwhile: only the newest are shown, sentinel audit has them all)`);
    }
  } catch { /* the connection line says what is wrong */ }
}

// A silent stream (a proxy that stopped passing it on, a suspended laptop) is
// closed and opened again.
setInterval(() => {
  const state = $("connection").dataset.state;
  if (session.stream && (state === "live" || state === "connecting") && Date.now() - session.lastHeard > STREAM_SILENCE_MS) {
    session.stream.abort();
  }
}, 5_000);

// ---- Refreshing ------------------------------------------------------------------

let stateRefreshTimer = null;
function scheduleStateRefresh() {
  // A hidden tab refreshes when it is shown again (visibilitychange).
  if (stateRefreshTimer || document.visibilityState !== "visible") return;
  stateRefreshTimer = setTimeout(() => { stateRefreshTimer = null; refreshState(); }, 300);
}

async function refreshState() {
  if (!session.token) return;
  const generation = session.generation;
  try {
    const [status, params, trials, approvals, scripts] = await Promise.all(
      ["/v1/status", "/v1/params", "/v1/trials", "/v1/approvals", "/v1/scripts"].map(read));
    if (generation !== session.generation) return;  // signed out meanwhile
    renderStatus(status);
    renderKnobs(params);
    renderTrials(trials);
    renderApprovals(approvals);
    renderScripts(scripts);
  } catch { /* the connection line says what is wrong */ }
}

async function refreshPipelines() {
  if (!session.token) return;
  const generation = session.generation;
  try {
    const pipelines = await read("/v1/pipelines");
    if (generation !== session.generation) return;
    series.record(pipelines);
    renderPipelines(pipelines);
  } catch { /* the connection line says what is wrong */ }
}

function every(ms, task) {
  setInterval(() => { if (session.token && document.visibilityState === "visible") task(); }, ms);
}
every(PIPELINE_POLL_MS, refreshPipelines);
every(STATE_POLL_MS, refreshState);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && session.token) { refreshState(); refreshPipelines(); }
});

// ---- Status and the freeze ---------------------------------------------------

function renderStatus(status) {
  $("instance").textContent = status.instance;
  document.title = `Sentinel · ${status.instance}`;
  const frozen = status.frozen;
  const banner = $("frozen-banner");
  banner.hidden = !frozen;
  if (frozen) {
    $("frozen-text").textContent =
      `Frozen by ${frozen.by} since ${clock(frozen.since)}${frozen.reason ? `: ${frozen.reason}` : ""}. Scripts and trials change nothing until someone unfreezes.`;
  }
  $("unfreeze").hidden = !(frozen && allowed("automation.unfreeze"));
  $("freeze").hidden = Boolean(frozen) || !allowed("automation.freeze");
  const scripts = status.scripts;
  $("automation-state").textContent = (frozen ? "Frozen. " : "Running: scripts and trials may change knobs. ")
    + `${scripts.loaded} scripts loaded (${scripts.paused} paused, ${scripts.suspended} suspended, ${scripts.failed} failed to load), `
    + `${status.trials.running} trials running, ${status.audit.entries} audit entries`
    + (status.audit.failing ? " — the audit sink is failing" : "")
    + (status.state_file && status.state_file.failing ? " — the state file cannot be saved" : "") + ".";
}

// ---- Pipelines ---------------------------------------------------------------------

/** The sparklines' samples: per pipeline, the 10 s window of each side every poll. */
const series = {
  samples: new Map(),
  clear() { this.samples.clear(); },
  record(pipelines) {
    const now = Date.now();
    for (const [name, pipeline] of Object.entries(pipelines)) {
      const list = this.samples.get(name) || [];
      const point = { time: now, sides: {} };
      for (const [side, windows] of sides(pipeline)) point.sides[side] = windows["10s"];
      list.push(point);
      while (list.length > SERIES_POINTS) list.shift();
      this.samples.set(name, list);
    }
    for (const name of [...this.samples.keys()]) if (!(name in pipelines)) this.samples.delete(name);
  },
};

/** The sides a pipeline is judged on: its split's variants (else the pipeline), and the shadow once it saw calls. */
function sides(pipeline) {
  const list = pipeline.variants
    ? Object.entries(pipeline.variants).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => [name, value.windows])
    : [["live", pipeline.windows]];
  if (pipeline.shadow && pipeline.shadow.windows["15m"].calls > 0) list.push(["shadow", pipeline.shadow.windows]);
  return list;
}

function renderPipelines(pipelines) {
  const cards = Object.keys(pipelines).sort().map((name) => pipelineCard(name, pipelines[name]));
  if (!cards.length) cards.push(el("p", { class: "muted" }, "No pipelines are registered."));
  replaceKeepingFocus($("pipelines"), cards);
}

function pipelineCard(name, pipeline) {
  const facts = [];
  if (pipeline.breaker) facts.push(`breaker ${pipeline.breaker.state.replace("_", "-")}`);
  if (pipeline.bulkhead) facts.push(`bulkhead ${pipeline.bulkhead.in_use} of ${pipeline.bulkhead.capacity} in use, ${pipeline.bulkhead.queued} queued`);
  const list = sides(pipeline);
  const rows = list.map(([side, windows]) => {
    const w = windows["1m"];
    return el("tr", {}, el("th", { scope: "row" }, side), el("td", { class: "num" }, String(w.calls)),
      el("td", { class: "num" }, percent(w.error_rate)), el("td", { class: "num" }, seconds(w.p50)),
      el("td", { class: "num" }, seconds(w.p99)));
  });
  const table = el("table", { class: "sides" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "last minute"), el("th", { scope: "col", class: "num" }, "calls"),
      el("th", { scope: "col", class: "num" }, "errors"), el("th", { scope: "col", class: "num" }, "p50"),
      el("th", { scope: "col", class: "num" }, "p99"))),
    el("tbody", {}, rows));
  const names = list.map(([side]) => side);
  const samples = series.samples.get(name) || [];
  const breakerClass = pipeline.breaker && pipeline.breaker.state !== "closed" ? "status bad" : "muted";
  return el("article", { class: "card", "data-pipeline": name },
    el("div", { class: "card-head" }, el("h3", {}, name), el("span", { class: breakerClass }, facts.join(" · "))),
    table,
    el("div", { class: "charts" },
      sparkline(`${name}: error rate, last 10 s`, samples, names, (w) => w.error_rate, percent, 0.01),
      sparkline(`${name}: p99, last 10 s`, samples, names, (w) => w.p99, seconds, 0.001)),
    el("div", { class: "legend" }, names.map((side, index) => el("span", {}, swatch(index), ` ${side}`))));
}

function swatch(index) {
  const icon = svg("svg", { class: "swatch", viewBox: "0 0 26 10", "aria-hidden": "true" });
  icon.append(svg("line", { x1: 0, y1: 5, x2: 26, y2: 5, class: `line s${index % 4}`, "stroke-width": 2 }));
  return icon;
}

/** A small line chart of one window field over the last samples; a side without calls leaves a gap. */
function sparkline(title, samples, names, field, format, floor) {
  const width = 300, height = 70, pad = 4;
  const span = PIPELINE_POLL_MS * SERIES_POINTS;
  const end = Date.now();
  let top = floor;
  for (const point of samples) for (const side of names) {
    const w = point.sides[side];
    if (w && w.calls > 0) top = Math.max(top, field(w));
  }
  top *= 1.1;
  const chart = svg("svg", { class: "spark", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img" });
  const latest = names.map((side) => {
    const w = samples.length ? samples[samples.length - 1].sides[side] : undefined;
    return `${side} ${w && w.calls > 0 ? format(field(w)) : "no calls"}`;
  });
  chart.setAttribute("aria-label", `${title}: ${latest.join(", ")}; scale up to ${format(top)}`);
  names.forEach((side, index) => {
    let path = "", pen = false;
    for (const point of samples) {
      const w = point.sides[side];
      if (!w || w.calls === 0) { pen = false; continue; }
      const x = (width * (1 - (end - point.time) / span)).toFixed(1);
      const y = (height - pad - (height - 2 * pad) * (field(w) / top)).toFixed(1);
      path += `${pen ? "L" : "M"}${x} ${y} `;
      pen = true;
    }
    if (path) chart.append(svg("path", { d: path, class: `line s${index % 4}`, "vector-effect": "non-scaling-stroke" }));
  });
  return el("figure", { class: "chart" }, el("figcaption", { class: "chart-title" }, `${title.split(": ")[1]} (scale ${format(top)})`), chart);
}

// ---- Knobs -------------------------------------------------------------------------

function renderKnobs(params) {
  const rows = Object.keys(params).sort().map((name) => {
    const knob = params[name];
    const change = knob.last_change;
    return el("tr", {},
      el("th", { scope: "row" }, el("code", {}, name)),
      el("td", { class: "num" }, knobValue(knob.value, knob.unit)),
      el("td", { class: "num" }, knob.shadow === null ? "–" : knobValue(knob.shadow, knob.unit)),
      el("td", { class: "num" }, `${knobValue(knob.min, knob.unit)} – ${knobValue(knob.max, knob.unit)}`),
      el("td", {}, change
        ? [change.actor, ", ", timeElement(change.time), change.reason ? [": ", el("span", { class: "reason" }, change.reason)] : ""]
        : el("span", { class: "muted" }, "unchanged since start")));
  });
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No knobs.")));
  replaceKeepingFocus(document.querySelector("#knobs tbody"), rows);
}

// ---- Trials ------------------------------------------------------------------------

const TRIAL_STATUS = {
  running: ["running", "good"], holding: ["holding: too few calls to judge", "warn"],
  watching: ["promoted, watching", "good"], promoted: ["promoted", "good"],
  aborted: ["aborted", "bad"], rolled_back: ["rolled back", "bad"],
};

function renderTrials(trials) {
  const names = Object.keys(trials).sort((a, b) => {
    const finished = (name) => ["promoted", "aborted", "rolled_back"].includes(trials[name].status);
    return finished(a) - finished(b) || a.localeCompare(b);
  });
  const cards = names.map((name) => {
    const trial = trials[name];
    const [label, tone] = TRIAL_STATUS[trial.status] || [trial.status, "plain"];
    const evidence = trial.evidence || {};
    const changes = Object.keys(trial.params).sort().map((knob) =>
      el("li", {}, el("code", {}, knob), `: ${number(trial.previous[knob])} → ${number(trial.params[knob])}`));
    const children = [
      el("h3", {}, name, " ", el("span", { class: `status ${tone}` }, `(${label})`)),
      el("ul", {}, changes),
    ];
    if (trial.status === "running" || trial.status === "holding") {
      const share = trial.window > 0 ? Math.min(1, trial.stable_for / trial.window) : 0;
      children.push(el("p", {},
        el("label", { for: `progress-${name}` }, "Progress to promotion: "),
        el("progress", { id: `progress-${name}`, max: 1000, value: Math.round(share * 1000) }),
        ` stable for ${duration(trial.stable_for)} of ${duration(trial.window)} (${Math.round(share * 100)} %)`));
    } else if (trial.status === "watching") {
      children.push(el("p", {}, `Live again with the new values; rolled back if it gets worse within ${duration(trial.watch)}.`));
    }
    const maximum = evidence.max_violations;
    children.push(el("p", {}, `Violations: ${trial.violations}${maximum !== undefined ? ` of ${maximum} allowed` : ""}`,
      ` · shadow calls: ${trial.shadow_calls} · last verdict: ${trial.last_event || "none yet"}`));
    for (const warning of trial.warnings || []) children.push(el("p", { class: "status warn" }, `Warning: ${warning}`));
    children.push(evidenceDetails(evidence, "evidence", `evidence:${name}`));
    if (!["promoted", "aborted", "rolled_back"].includes(trial.status) && allowed("trial.abort")) {
      children.push(el("p", {}, actionButton("abort", name, `Abort ${name}…`, true)));
    }
    return el("article", { class: "card trial", "data-trial": name }, children);
  });
  if (!cards.length) cards.push(el("p", { class: "muted" }, "No trials."));
  replaceKeepingFocus($("trials"), cards);
}

function evidenceDetails(evidence, summary = "evidence", key = undefined) {
  if (!evidence || (typeof evidence === "object" && !Object.keys(evidence).length)) return null;
  return el("details", { "data-key": key }, el("summary", {}, summary), el("pre", {}, JSON.stringify(evidence, null, 2)));
}

// ---- Approvals ---------------------------------------------------------------------

function renderApprovals(gates) {
  const names = Object.keys(gates).sort((a, b) =>
    (gates[a].status !== "pending") - (gates[b].status !== "pending") || a.localeCompare(b));
  const cards = names.map((name) => {
    const gate = gates[name];
    const tone = gate.status === "pending" ? "warn" : gate.status === "approved" ? "good" : "bad";
    const children = [
      el("h3", {}, name, " ", el("span", { class: `status ${tone}` }, `(${gate.status})`)),
      el("p", {}, `Requested by ${gate.requested_by} at `, timeElement(gate.requested_at),
        gate.message ? [": ", el("span", { class: "reason" }, gate.message)] : ""),
    ];
    if (gate.answered_by) {
      children.push(el("p", {}, `${gate.status === "approved" ? "Approved" : "Denied"} by ${gate.answered_by} at `,
        timeElement(gate.answered_at), gate.reason ? [": ", el("span", { class: "reason" }, gate.reason)] : ""));
    }
    if (gate.status === "pending") {
      const buttons = [];
      if (allowed("approval.grant")) buttons.push(actionButton("approve", name, `Approve ${name}…`));
      if (allowed("approval.deny")) buttons.push(" ", actionButton("deny", name, `Deny ${name}…`, true));
      if (buttons.length) children.push(el("p", {}, buttons));
    }
    return el("article", { class: "card gate", "data-gate": name }, children);
  });
  if (!cards.length) cards.push(el("p", { class: "muted" }, "No approvals waiting or answered."));
  replaceKeepingFocus($("approvals"), cards);
}

// ---- Scripts -----------------------------------------------------------------------

function scriptStatus(script) {
  if (script.suspended) return ["suspended", "bad"];
  if (script.paused) return ["paused", "warn"];
  const words = script.dry_run ? "dry run" : "running";
  if (script.last_error) return [`${words}, last run failed`, "bad"];
  return [script.staged ? `${words}, new version staged` : words, "good"];
}

function renderScripts(listing) {
  const rows = listing.scripts.map((script) => {
    const [label, tone] = scriptStatus(script);
    let action = null;
    if ((script.paused || script.suspended) && allowed("script.resume")) action = actionButton("resume", script.name, `Resume ${script.name}…`);
    else if (!script.paused && !script.suspended && allowed("script.pause")) action = actionButton("pause", script.name, `Pause ${script.name}…`);
    return el("tr", { "data-script": script.name },
      el("th", { scope: "row" }, script.name, el("br"), el("span", { class: "muted" }, script.path)),
      el("td", {}, el("span", { class: `status ${tone}` }, label),
        script.last_error ? [el("br"), el("span", { class: "reason" }, script.last_error)] : ""),
      el("td", { class: "num" }, seconds(script.interval_s)),
      el("td", {}, script.last_evaluation ? timeElement(script.last_evaluation) : el("span", { class: "muted" }, "not yet")),
      el("td", { class: "num" }, String(script.evaluations)),
      el("td", { class: "num" }, `${script.failures}${script.consecutive_failures ? ` (${script.consecutive_failures} in a row)` : ""}`),
      el("td", {}, el("code", { title: `content digest ${script.digest}` }, script.digest.slice(0, 8))),
      el("td", {}, action));
  });
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 8, class: "muted" }, "No scripts loaded.")));
  replaceKeepingFocus(document.querySelector("#scripts tbody"), rows);
  const failed = listing.failed.map((failure) =>
    el("p", { class: "status bad" }, `Failed to load ${failure.path}: `, el("span", { class: "reason" }, failure.error)));
  $("failed-scripts").replaceChildren(...failed);
}

// ---- The decision timeline -----------------------------------------------------------

const OUTCOME_TONE = { applied: "good", dry_run: "plain", denied: "bad", rejected: "bad", failed: "bad" };
const SEVERITY_TONE = { info: "plain", warning: "warn", critical: "bad" };

const timeline = {
  items: [],             // newest first: { key, time, node }
  keys: new Set(),
  clear() { this.items = []; this.keys.clear(); $("timeline").replaceChildren(); },
  add(item, fresh) {
    const entry = item.entry;
    const key = JSON.stringify([item.kind, entry.time, entry.actor || entry.source, entry.action || entry.message,
      entry.target, entry.outcome, entry.correlation_id, entry.reason, entry.args || entry.fields]);
    if (this.keys.has(key)) return;
    this.keys.add(key);
    if (item.kind === "audit" && (!session.lastAuditTime || entry.time > session.lastAuditTime)) session.lastAuditTime = entry.time;
    const node = item.kind === "audit" ? auditItem(entry) : alertItem(entry);
    if (fresh) node.classList.add("new");
    const list = $("timeline");
    // Newest first; of equal times, the one that arrived last first.
    let index = this.items.findIndex((other) => other.time <= entry.time);
    if (index < 0) index = this.items.length;
    list.insertBefore(node, this.items[index] ? this.items[index].node : null);
    this.items.splice(index, 0, { key, time: entry.time, node });
    while (this.items.length > TIMELINE_SIZE) {
      const old = this.items.pop();
      old.node.remove();
      this.keys.delete(old.key);
    }
  },
};

function changeText(entry) {
  const args = entry.args || {};
  if ((entry.action === "param.set" || entry.action === "shadow.set") && args.param !== undefined) {
    return `${args.param} → ${typeof args.value === "object" ? JSON.stringify(args.value) : args.value}`;
  }
  return entry.target || "";
}

function auditItem(entry) {
  const tone = OUTCOME_TONE[entry.outcome] || "plain";
  return el("li", { class: `audit outcome-${entry.outcome}` },
    timeElement(entry.time), " ",
    el("span", { class: `badge ${tone}` }, entry.outcome.replace("_", " ")),
    el("span", { class: "what" }, entry.action), " ", el("code", {}, changeText(entry)), " by ", el("span", { class: "who" }, entry.actor),
    entry.reason ? el("div", { class: "reason" }, entry.reason) : null,
    evidenceDetails(entry.evidence));
}

function alertItem(alert) {
  const tone = SEVERITY_TONE[alert.severity] || "plain";
  return el("li", { class: `alert severity-${alert.severity}` },
    timeElement(alert.time), " ",
    el("span", { class: `badge ${tone}` }, `alert: ${alert.severity}`),
    el("span", { class: "what" }, alert.message), " from ", el("span", { class: "who" }, alert.source),
    evidenceDetails(alert.fields, "fields"));
}

// ---- Actions -----------------------------------------------------------------------

const ACTIONS = {
  freeze: {
    command: "automation.freeze", args: () => ({}), confirm: "Freeze",
    title: () => "Freeze automation",
    detail: () => "Scripts and trials stop changing knobs until someone unfreezes; operators' commands still apply.",
  },
  unfreeze: {
    command: "automation.unfreeze", args: () => ({}), confirm: "Unfreeze",
    title: () => "Unfreeze automation", detail: () => "Scripts and trials may change knobs again.",
  },
  approve: {
    command: "approval.grant", args: (gate) => ({ gate }), confirm: "Approve",
    title: (gate) => `Approve ${gate}`, detail: () => "The script that asked sees the approval at its next evaluation.",
  },
  deny: {
    command: "approval.deny", args: (gate) => ({ gate }), confirm: "Deny",
    title: (gate) => `Deny ${gate}`, detail: () => "The script that asked sees the denial at its next evaluation.",
  },
  abort: {
    command: "trial.abort", args: (name) => ({ name }), confirm: "Abort the trial",
    title: (name) => `Abort trial ${name}`,
    detail: () => "Its shadows are cleared; a trial that was promoted and is being watched is rolled back.",
  },
  pause: {
    command: "script.pause", args: (name) => ({ name }), confirm: "Pause",
    title: (name) => `Pause script ${name}`, detail: () => "It is not evaluated until it is resumed.",
  },
  resume: {
    command: "script.resume", args: (name) => ({ name }), confirm: "Resume",
    title: (name) => `Resume script ${name}`, detail: () => "It is evaluated again from its next interval.",
  },
};

function actionButton(kind, subject, label, danger = false) {
  return el("button", {
    type: "button", class: danger ? "danger" : "", "data-key": `${kind}:${subject}`,
    onclick: () => openAction(kind, subject),
  }, label);
}

let pendingAction = null;

function idempotencyKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function openAction(kind, subject) {
  const action = ACTIONS[kind];
  // One idempotency key per attempt: a double submit runs the command once.
  pendingAction = { action, subject, key: idempotencyKey() };
  $("action-title").textContent = action.title(subject);
  $("action-detail").textContent = action.detail(subject);
  $("action-confirm").textContent = action.confirm;
  $("action-reason").value = "";
  $("action-error").textContent = "";
  $("action-dialog").showModal();
  $("action-reason").focus();
}

async function submitAction(event) {
  event.preventDefault();
  if (!pendingAction) return;
  const { action, subject, key } = pendingAction;
  const reason = $("action-reason").value.trim();
  if (!reason) {
    $("action-error").textContent = "A reason is required: it is written into the audit with your name.";
    return;
  }
  $("action-confirm").disabled = true;
  const generation = session.generation;
  try {
    const answer = await api("/v1/commands",
      { command: action.command, args: action.args(subject), reason, idempotency_key: key });
    if (generation !== session.generation) return;
    $("action-dialog").close();
    pendingAction = null;
    setResult("ok", `${action.command}${subject ? ` ${subject}` : ""}: ${answer.outcome.replace("_", " ")} (audited as ${session.whoami.identity}).`);
    // The button pressed may be gone (a freeze hides Freeze…): the result takes the focus.
    $("action-result").focus();
    refreshState();
  } catch (error) {
    if (generation !== session.generation) return;
    if (error.status === 401) {
      signOut("The server no longer accepts this token (401): it may have been revoked. Sign in again.");
      return;
    }
    // The server keeps its answer under the key: a retry after an answer needs a new key, or it
    // would get the same answer again. With no answer (unreachable, timed out) the same key is safe.
    if (pendingAction && error.status !== 0 && error.status !== 503) pendingAction.key = idempotencyKey();
    const what = { 403: "Denied", 409: "Refused", 0: "Not sent" }[error.status] || "Failed";
    $("action-error").textContent = `${what}${error.status ? ` (${error.status})` : ""}: ${error.message}`;
  } finally {
    $("action-confirm").disabled = false;
  }
}

function setResult(kind, text) {
  const node = $("action-result");
  node.dataset.kind = kind;
  node.textContent = text;
}

// ---- Start ---------------------------------------------------------------------------

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  if (token) signIn(token);
});
$("sign-out").addEventListener("click", () => signOut(""));
$("freeze").addEventListener("click", () => openAction("freeze", ""));
$("unfreeze").addEventListener("click", () => openAction("unfreeze", ""));
$("action-form").addEventListener("submit", submitAction);
$("action-cancel").addEventListener("click", () => { $("action-dialog").close(); pendingAction = null; });
$("action-dialog").addEventListener("close", () => { pendingAction = null; });

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved); else $("token").focus();
