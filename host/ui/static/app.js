// The funchost dashboard: plain JavaScript, no build step, everything from this host.
// It polls the host only while the page is visible; every value is put in the page as text
// (never as HTML), since function names, log lines and answers come from the app.
"use strict";

const API = "/admin/ui/api/";
const KEEP = 500; // invocations kept on the page, as many as the host keeps
const every = { invocations: 400, state: 2000, queues: 3000 };
const page = {
  functions: [], invocations: [], depths: {}, auth: "", target: null, rows: new Map(), items: new Map(),
};

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// --- the master key: only when the host checks keys -------------------------------------

function takeKeyFromUrl() {
  const url = new URL(location.href);
  const code = url.searchParams.get("code");
  if (!code) return;
  sessionStorage.setItem("funchost-key", code);
  url.searchParams.delete("code");
  history.replaceState(null, "", url.pathname + url.search); // out of the address bar
}

function keyHeaders() {
  const key = sessionStorage.getItem("funchost-key");
  return key ? { "x-functions-key": key } : {};
}

async function api(path) {
  const answer = await fetch(API + path, { headers: keyHeaders(), cache: "no-store" });
  if (answer.status === 401) {
    $("key-form").hidden = false;
    throw new Error("the master key is needed");
  }
  if (!answer.ok) throw new Error(`${path}: ${answer.status} ${await answer.text()}`);
  $("key-form").hidden = true;
  return answer.json();
}

// --- host and functions -------------------------------------------------------------------

function renderHost(host) {
  page.auth = host.auth;
  const shown = {
    State: host.state, URL: host.url, Uptime: duration(host.uptimeSeconds),
    "Time zone": host.timeZone, Auth: host.auth, Drain: host.drain,
    Azurite: host.storage.azurite + (host.storage.usedBy ? ` (${host.storage.usedBy.join(", ")})` : ""),
    Reloads: host.reloads ?? "—", Workers: host.workers ?? "—", Version: host.version,
  };
  $("host").replaceChildren(...Object.entries(shown).map(([k, v]) =>
    el("div", {}, el("dt", { text: k }), el("dd", { text: String(v) }))));
}

function duration(seconds) {
  const h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
  return h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
}

function renderAppError(error) {
  const banner = $("app-error");
  banner.hidden = !error;
  if (error) banner.textContent = `The app could not be loaded:\n${error.message}\n${error.detail || ""}`;
}

function details(fn) {
  const lines = [];
  const trigger = fn.trigger ? fn.trigger.details : {};
  for (const [k, v] of Object.entries(trigger)) {
    lines.push(el("div", {}, el("span", { class: "k", text: `${k}: ` }), String(v)));
  }
  for (const when of fn.nextOccurrences || []) {
    lines.push(el("div", { class: "next" }, el("span", { class: "k", text: "next: " }), when));
  }
  const depth = page.depths[fn.name];
  if (depth) {
    lines.push(el("div", { class: "depth" }, el("span", { class: "k", text: "depth: " }),
      `${depth.depth ?? "?"} (poison ${depth.poisonQueue || "—"}: ${depth.poisonDepth ?? "—"})`));
  }
  for (const b of fn.bindings || []) {
    const conn = b.details.connection ? `, connection ${b.details.connection}` : "";
    lines.push(el("div", {}, el("span", { class: "k", text: `${b.direction}: ` }), `${b.type} ${b.name}${conn}`));
  }
  return el("td", { class: "details mono" }, ...lines);
}

function functionRow(fn) {
  const state = fn.enabled
    ? el("td", { class: "enabled", text: fn.inFlight ? `enabled, ${fn.inFlight} running` : "enabled" })
    : el("td", {}, el("div", { class: "disabled", text: "disabled" }),
      ...fn.reasons.map((r) => el("div", { class: "reason", text: r })));
  const run = fn.enabled
    ? el("button", { class: "run", type: "button", "data-function": fn.name, text: "Run…", onclick: () => openInvoke(fn) })
    : null;
  return el("tr", { "data-function": fn.name, class: fn.enabled ? "" : "off" },
    el("td", { class: "name mono", text: fn.name }),
    el("td", { class: "trigger mono", text: fn.trigger ? fn.trigger.type : "?" }),
    details(fn), state, el("td", {}, run));
}

// Rows and invocations are made once and kept while they do not change, so a button being
// clicked, an unfolded invocation or a selection is never swapped for a copy under the user.
function kept(cache, key, data, make) {
  const json = JSON.stringify(data);
  let entry = cache.get(key);
  if (!entry || entry.json !== json) cache.set(key, entry = { json, node: make() });
  return entry.node;
}

function renderFunctions() {
  const rows = page.functions.map((fn) =>
    kept(page.rows, fn.name, [fn, page.depths[fn.name]], () => functionRow(fn)));
  const body = $("functions").tBodies[0];
  if (rows.some((node, i) => body.children[i] !== node) || body.children.length !== rows.length) {
    body.replaceChildren(...rows);
  }
  const select = $("filter-function"), chosen = select.value;
  select.replaceChildren(el("option", { value: "", text: "all" }),
    ...page.functions.map((f) => el("option", { value: f.name, text: f.name })));
  select.value = chosen;
}

// --- running a function now ---------------------------------------------------------------

function openInvoke(fn) {
  if (page.target && page.target.name !== fn.name) $("payload").value = "";
  page.target = fn;
  const http = fn.trigger.type.toLowerCase() === "httptrigger";
  $("invoke-name").textContent = fn.name;
  $("invoke-http").hidden = !http;
  $("payload-label").textContent = http ? "Body" : "Input (the trigger's payload)";
  $("invoke-result").textContent = "";
  if (http) {
    const methods = fn.trigger.details.methods || ["GET", "POST", "PUT", "DELETE", "PATCH"];
    $("http-method").replaceChildren(...methods.map((m) => el("option", { text: m.toUpperCase() })));
    $("http-path").value = fn.url ? new URL(fn.url).pathname : "/";
  }
  $("invoke-panel").hidden = false;
  $("payload").focus();
}

function parseHeaders(text) {
  const headers = new Headers();
  for (const line of text.split("\n")) {
    const at = line.indexOf(":");
    if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return headers;
}

async function sendHttp() {
  const method = $("http-method").value;
  const headers = parseHeaders($("http-headers").value);
  for (const [k, v] of Object.entries(keyHeaders())) if (!headers.has(k)) headers.set(k, v);
  const init = { method, headers, redirect: "manual", cache: "no-store" };
  if (!["GET", "HEAD"].includes(method)) init.body = $("payload").value;
  const answer = await fetch($("http-path").value, init);
  if (answer.type === "opaqueredirect") return "a redirect (the browser does not show where to)";
  const head = [...answer.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  return `${answer.status} ${answer.statusText}\n${head}\n\n${await answer.text()}`;
}

async function sendAdmin(fn) {
  const answer = await fetch(`/admin/functions/${encodeURIComponent(fn.name)}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...keyHeaders() },
    body: JSON.stringify({ input: $("payload").value }),
  });
  const text = await answer.text();
  if (answer.status === 202) return `202 Accepted: ${fn.name} is running; it shows below when it ends.`;
  return `${answer.status} ${answer.statusText}\n${text}`;
}

async function invoke(event) {
  event.preventDefault();
  const fn = page.target;
  const http = fn.trigger.type.toLowerCase() === "httptrigger";
  $("invoke-result").textContent = "…";
  try {
    $("invoke-result").textContent = await (http ? sendHttp() : sendAdmin(fn));
  } catch (error) {
    $("invoke-result").textContent = String(error);
  }
  pollInvocations();
}

// --- invocations --------------------------------------------------------------------------

// Whether the failure is already among the invocation's log lines (kept while a page is open).
function logged(inv) {
  if (!inv.error) return true;
  const first = inv.error.split("\n")[0];
  return inv.logs.some((line) => line.text.includes(first));
}

function invocationItem(inv) {
  const item = el("details", { class: "invocation", "data-id": inv.id, "data-function": inv.function },
    el("summary", {},
      el("span", { class: "mono", text: inv.start.slice(11, 23) }),
      el("span", { class: "mono", text: inv.function }),
      el("span", { class: inv.outcome, text: inv.outcome }),
      el("span", { class: "mono", text: `${inv.durationMs} ms` }),
      el("span", { text: inv.retryCount ? `retry ${inv.retryCount}` : "" }),
      el("span", { class: "note", text: inv.reason })),
    el("div", { class: "mono note", text: `Id ${inv.id} · started ${inv.start}` }),
    el("pre", { class: "logs" }, ...inv.logs.map((l) =>
      el("div", { class: l.level, text: `[${l.time}] ${l.text}` }))),
    logged(inv) ? null : el("pre", { class: "logs error", text: inv.error }));
  return item;
}

function renderInvocations() {
  const fn = $("filter-function").value, outcome = $("filter-outcome").value;
  const shown = page.invocations.filter((i) =>
    (!fn || i.function === fn) && (!outcome || i.outcome === outcome));
  $("invocations").replaceChildren(...shown.map((inv) =>
    kept(page.items, inv.id, inv.id, () => invocationItem(inv))));
  const ids = new Set(page.invocations.map((i) => i.id)); // those fallen off the ring go
  for (const id of [...page.items.keys()]) if (!ids.has(id)) page.items.delete(id);
  if (!shown.length) $("invocations").append(el("p", { class: "note", text: "none yet" }));
}

async function pollInvocations() {
  const newest = page.invocations.length ? page.invocations[0].id : "";
  const doc = await api(`invocations?after=${encodeURIComponent(newest)}`);
  $("kept").textContent = `(the last ${doc.kept} are kept)`;
  if (!doc.complete && !doc.invocations.length) return;
  page.invocations = (doc.complete ? doc.invocations : doc.invocations.concat(page.invocations)).slice(0, KEEP);
  renderInvocations();
}

async function pollState() {
  const doc = await api("state");
  renderHost(doc.host);
  renderAppError(doc.appError);
  const first = !page.functions.length;
  page.functions = doc.functions;
  renderFunctions();
  if (first) pollQueues().catch(() => {}); // the depths with the first view, not later
}

async function pollQueues() {
  if (!page.functions.some((f) => f.enabled && f.trigger.type.toLowerCase() === "queuetrigger")) return;
  const depths = await api("queues");
  page.depths = Object.fromEntries(depths.map((d) => [d.function, d]));
  renderFunctions();
}

// Each poll runs again `ms` after it ended, and not at all while the page is hidden.
function repeat(poll, ms) {
  const run = async () => {
    if (!document.hidden) {
      try {
        await poll();
        $("problem").hidden = true;
      } catch (error) {
        $("problem").hidden = false;
        $("problem").textContent = String(error.message || error);
      }
    }
    setTimeout(run, ms);
  };
  run();
}

function start() {
  takeKeyFromUrl();
  $("key-entry").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("funchost-key", $("key").value);
    $("key").value = "";
    pollState();
  });
  $("invoke-form").addEventListener("submit", invoke);
  $("invoke-close").addEventListener("click", () => { $("invoke-panel").hidden = true; });
  $("filter-function").addEventListener("change", renderInvocations);
  $("filter-outcome").addEventListener("change", renderInvocations);
  repeat(pollState, every.state);
  repeat(pollInvocations, every.invocations);
  repeat(pollQueues, every.queues);
}

document.addEventListener("DOMContentLoaded", start);
