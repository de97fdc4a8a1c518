// lamb's console: plain DOM, lamb's own API from lamb's own origin.
"use strict";

const api = "/2015-03-31";
let selected = null; // the function shown
let tailAbort = null; // ends the live tail of the previous function

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// Credentials, when lamb has --credentials: "ACCESS_KEY:SECRET" and a
// region, kept for this tab only. /_lamb/ requests carry them as a bearer
// token; Lambda API requests are SigV4-signed with them (WebCrypto).
function creds() {
  const c = sessionStorage.getItem("lamb.credentials") || "";
  const i = c.indexOf(":");
  if (i <= 0) return null;
  return { key: c.slice(0, i), secret: c.slice(i + 1), region: sessionStorage.getItem("lamb.region") || "us-east-1" };
}

const enc = new TextEncoder();
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
const sha256 = async (data) => hex(await crypto.subtle.digest("SHA-256", enc.encode(data)));
async function hmac(key, msg) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(msg)));
}
// uriEncode is SigV4's: RFC 3986 unreserved characters stay, all else is %XX.
const uriEncode = (v, slash) => encodeURIComponent(v)
  .replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase())
  .replace(/%2F/g, slash ? "%2F" : "/");

// sigv4 returns the headers signing a request to lamb's Lambda API.
async function sigv4(method, path, body, c) {
  const u = new URL(path, location.href);
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const payloadHash = await sha256(body || "");
  const query = u.search.slice(1).split("&").filter((p) => p).map((p) => {
    const [k, v = ""] = p.split("=");
    const dec = (x) => decodeURIComponent(x.replace(/\+/g, " "));
    return [uriEncode(dec(k), true), uriEncode(dec(v), true)];
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => k + "=" + v).join("&");
  const signed = "host;x-amz-content-sha256;x-amz-date";
  const canonical = [method, uriEncode(u.pathname, false), query,
    `host:${u.host}\nx-amz-content-sha256:${payloadHash}\nx-amz-date:${amzDate}\n`, signed, payloadHash].join("\n");
  const scope = `${day}/${c.region}/lambda/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, await sha256(canonical)].join("\n");
  let key = await hmac(enc.encode("AWS4" + c.secret), day);
  for (const part of [c.region, "lambda", "aws4_request"]) key = await hmac(key, part);
  return {
    "X-Amz-Date": amzDate, "X-Amz-Content-Sha256": payloadHash,
    Authorization: `AWS4-HMAC-SHA256 Credential=${c.key}/${scope}, SignedHeaders=${signed}, Signature=${hex(await hmac(key, toSign))}`,
  };
}

// call is fetch for lamb: it adds the credentials each kind of path wants.
async function call(path, opts = {}) {
  const c = creds();
  const headers = Object.assign({}, opts.headers);
  if (c && path.startsWith("/_lamb/")) headers.Authorization = `Bearer ${c.key}:${c.secret}`;
  else if (c) Object.assign(headers, await sigv4(opts.method || "GET", path, opts.body, c));
  return fetch(path, Object.assign({}, opts, { headers }));
}

async function getJSON(path) {
  const r = await call(path, { headers: { Accept: "application/json" } });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.message || body.Message || r.status + " " + r.statusText);
  return body;
}

async function loadHealth() {
  try {
    const h = await getJSON("/_lamb/health");
    document.getElementById("health").textContent = `version ${h.version}, ${h.backend} backend`;
  } catch (e) {
    document.getElementById("health").textContent = "unreachable: " + e.message;
  }
}

async function loadFunctions() {
  const list = document.getElementById("functions");
  let fns = [];
  try {
    for (let marker = ""; ; ) {
      const page = await getJSON(`${api}/functions/` + (marker ? `?Marker=${encodeURIComponent(marker)}` : ""));
      fns = fns.concat(page.Functions || []);
      if (!page.NextMarker) break;
      marker = page.NextMarker;
    }
  } catch (e) {
    list.replaceChildren(el("li", { class: "error" }, "ListFunctions: " + e.message));
    return;
  }
  fns.sort((a, b) => a.FunctionName.localeCompare(b.FunctionName));
  list.replaceChildren(...fns.map((f) =>
    el("li", {}, el("button", {
      type: "button", "data-function": f.FunctionName,
      class: selected === f.FunctionName ? "selected" : "",
      onclick: () => select(f.FunctionName),
    }, `${f.FunctionName} (${f.Runtime || f.PackageType})`))));
  if (fns.length === 0) list.replaceChildren(el("li", { class: "meta" }, "No functions yet."));
}

async function loadInstances() {
  const body = document.querySelector("#instances tbody");
  try {
    const rows = await getJSON("/_lamb/instances");
    body.replaceChildren(...rows.map((i) => el("tr", { "data-instance": i.id },
      el("td", {}, i.function), el("td", {}, i.version), el("td", {}, i.state),
      el("td", {}, i.backend), el("td", {}, new Date(i.started).toLocaleTimeString()))));
  } catch (e) {
    body.replaceChildren(el("tr", {}, el("td", { class: "error", colspan: "5" }, e.message)));
  }
}

async function select(name) {
  selected = name;
  document.querySelectorAll("#functions button").forEach((b) =>
    b.classList.toggle("selected", b.dataset.function === name));
  document.getElementById("function-pane").hidden = false;
  document.getElementById("fn-name").textContent = name;
  document.getElementById("invocations").replaceChildren();
  const n = encodeURIComponent(name);
  const dl = document.getElementById("fn-config");
  dl.replaceChildren();
  const row = (k, v) => dl.append(el("dt", {}, k), el("dd", {}, v));
  try {
    const f = await getJSON(`${api}/functions/${n}`);
    const c = f.Configuration;
    row("ARN", c.FunctionArn);
    row("Runtime", c.Runtime || c.PackageType);
    row("Handler", c.Handler || "");
    row("Memory", `${c.MemorySize} MB`);
    row("Timeout", `${c.Timeout} s`);
    row("State", `${c.State} (${c.LastUpdateStatus})`);
    const [versions, aliases, urls, mappings] = await Promise.all([
      getJSON(`${api}/functions/${n}/versions`).catch(() => ({ Versions: [] })),
      getJSON(`${api}/functions/${n}/aliases`).catch(() => ({ Aliases: [] })),
      getJSON(`/2021-10-31/functions/${n}/urls`).catch(() => ({ FunctionUrlConfigs: [] })),
      getJSON(`${api}/event-source-mappings/?FunctionName=${n}`).catch(() => ({ EventSourceMappings: [] })),
    ]);
    row("Versions", (versions.Versions || []).map((v) => v.Version).join(", "));
    row("Aliases", (aliases.Aliases || []).map((a) => `${a.Name} → ${a.FunctionVersion}`).join(", ") || "none");
    row("URLs", (urls.FunctionUrlConfigs || []).map((u) => u.FunctionUrl).join(", ") || "none");
    row("Event sources", (mappings.EventSourceMappings || []).map((m) => `${m.EventSourceArn} (${m.State})`).join(", ") || "none");
  } catch (e) {
    row("Error", e.message);
  }
  startTail(name);
}

// parseLog reads an invocation's log tail: its request id, and REPORT's
// durations, from AWS's text lines or, with LogFormat JSON, from its
// platform.start and platform.report records.
function parseLog(log) {
  const id = (log.match(/START RequestId: (\S+)/) || [])[1] || "";
  const dur = (log.match(/\tDuration: ([\d.]+) ms/) || [])[1];
  const init = (log.match(/Init Duration: ([\d.]+) ms/) || [])[1];
  const info = { id, duration: dur, init };
  for (const line of log.split("\n")) {
    if (!line.startsWith("{")) continue;
    let rec;
    try { rec = JSON.parse(line); } catch (_) { continue; }
    const r = rec.record || {};
    if (rec.type === "platform.start" && !info.id) info.id = r.requestId || "";
    if (rec.type === "platform.report" && r.metrics) {
      if (info.duration === undefined) info.duration = r.metrics.durationMs;
      if (info.init === undefined) info.init = r.metrics.initDurationMs;
    }
  }
  return info;
}

async function invoke(ev) {
  ev.preventDefault();
  if (!selected) return;
  const q = document.getElementById("qualifier").value.trim();
  const url = `${api}/functions/${encodeURIComponent(selected)}/invocations` + (q ? `?Qualifier=${encodeURIComponent(q)}` : "");
  const li = el("li", { class: "invocation" }, el("span", { class: "meta" }, "invoking…"));
  document.getElementById("invocations").prepend(li);
  try {
    const r = await call(url, {
      method: "POST",
      headers: { "X-Amz-Log-Type": "Tail", "Content-Type": "application/json" },
      body: document.getElementById("payload").value,
    });
    const text = await r.text();
    if (!r.ok) {
      let msg = text;
      try { msg = JSON.parse(text).message || JSON.parse(text).Message || text; } catch (_) {}
      li.replaceChildren(el("span", { class: "error" }, `${r.status}: ${msg}`));
      return;
    }
    const fnErr = r.headers.get("X-Amz-Function-Error");
    const b64 = r.headers.get("X-Amz-Log-Result") || "";
    const log = b64 ? new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))) : "";
    const info = parseLog(log);
    li.replaceChildren(
      el("div", { class: "meta" },
        `${info.id} · ${r.headers.get("X-Amz-Executed-Version") || ""} · ` +
        `${info.duration ? info.duration + " ms" : ""}` +
        `${info.init ? " · cold, init " + info.init + " ms" : " · warm"} · ` +
        (fnErr ? `error (${fnErr})` : "success")),
      el("pre", { class: fnErr ? "result error" : "result" }, text),
      el("pre", { class: "log" }, log));
    loadInstances();
  } catch (e) {
    li.replaceChildren(el("span", { class: "error" }, e.message));
  }
}

// startTail follows /_lamb/functions/{name}/logs?follow=true into #tail.
async function startTail(name) {
  if (tailAbort) tailAbort.abort();
  const ctl = new AbortController();
  tailAbort = ctl;
  const pre = document.getElementById("tail");
  pre.textContent = "";
  try {
    const r = await call(`/_lamb/functions/${encodeURIComponent(name)}/logs?follow=true`, { signal: ctl.signal });
    if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pre.textContent += value;
      const lines = pre.textContent.split("\n");
      if (lines.length > 500) pre.textContent = lines.slice(-500).join("\n");
      pre.scrollTop = pre.scrollHeight;
    }
  } catch (e) {
    if (!ctl.signal.aborted) pre.textContent += `\n[tail ended: ${e.message}]\n`;
  }
}

document.getElementById("invoke-form").addEventListener("submit", invoke);
document.getElementById("credentials-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem("lamb.credentials", document.getElementById("credentials").value.trim());
  sessionStorage.setItem("lamb.region", document.getElementById("region").value.trim() || "us-east-1");
  loadFunctions();
  loadInstances();
});
document.getElementById("region").value = sessionStorage.getItem("lamb.region") || "us-east-1";
loadHealth();
loadFunctions();
loadInstances();
setInterval(loadInstances, 2000);
setInterval(loadFunctions, 10000);
