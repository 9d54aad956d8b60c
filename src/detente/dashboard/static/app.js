// Détente dashboard. No dependencies, no network beyond this server's JSON. Every proof shown is
// checked here, with WebCrypto: SHA-256 for RFC 9162 inclusion proofs, Ed25519 for the C2SP
// checkpoint signature. Text from the log is only ever set with textContent (never as HTML).
"use strict";

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, text) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = String(text);
  return e;
};
const svgEl = (tag, attrs = {}) => {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};
async function api(path) {
  const r = await fetch("api/" + path, { headers: { Accept: "application/json" } });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

// ---------------------------------------------------------------- verification (RFC 9162, C2SP)

const enc = new TextEncoder();
function unb64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }
const ONE = new Uint8Array([1]);

// RFC 9162 §2.1.3.2, step by step.
async function verifyInclusion(index, size, leafHash, path, root) {
  if (index >= size) return false;
  let fn = BigInt(index), sn = BigInt(size - 1), r = leafHash;
  for (const p of path) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(concat(ONE, p, r));
      if ((fn & 1n) === 0n) { while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; } }
    } else {
      r = await sha256(concat(ONE, r, p));
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && equal(r, root);
}

// A C2SP signed note: text, a blank line, "— name base64(keyID || sig)" lines. Returns the parsed
// checkpoint if the key `vkey` ("name+hexID+base64(0x01 || pk)") signed it, else throws.
async function verifyCheckpoint(note, vkey) {
  const cut = note.indexOf("\n\n");
  if (cut < 0) throw new Error("not a signed note");
  const text = note.slice(0, cut + 1);
  const [name, kidHex, material] = [vkey.split("+")[0], vkey.split("+")[1], vkey.split("+").slice(2).join("+")];
  const raw = unb64(material);
  if (raw[0] !== 1 || raw.length !== 33) throw new Error("operator key is not Ed25519");
  const pk = raw.slice(1);
  const kid = (await sha256(concat(enc.encode(name + "\n"), ONE, pk))).slice(0, 4);
  const hex = [...kid].map((b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== kidHex) throw new Error("operator key ID does not match its key");
  const key = await crypto.subtle.importKey("raw", pk, { name: "Ed25519" }, false, ["verify"]);
  for (const line of note.slice(cut + 2).split("\n")) {
    if (!line.startsWith("\u2014 " + name + " ")) continue;
    const blob = unb64(line.slice(name.length + 3));
    if (blob.length !== 68 || !equal(blob.slice(0, 4), kid)) continue;
    if (await crypto.subtle.verify({ name: "Ed25519" }, key, blob.slice(4), enc.encode(text))) {
      const [origin, size, root] = text.split("\n");
      return { origin, size: Number(size), root: unb64(root) };
    }
  }
  throw new Error("no valid signature by the log operator on the checkpoint");
}

// ---------------------------------------------------------------- state and rendering

const state = { overview: null, findings: [], checkpoint: null, selected: null };

function setStatus(node, ok, text) {
  node.dataset.state = ok === null ? "pending" : ok ? "ok" : "failed";
  node.className = "status";
  node.textContent = text;
}

async function loadOverview() {
  const o = await api("overview");
  state.overview = o;
  $("#log-line").textContent = `log ${o.origin} · ${o.size} entries · parties ${o.parties.join(", ")} · operator key ${o.operator_vkey}`;
  if (o.checkpoint) {
    try {
      const cp = await verifyCheckpoint(o.checkpoint.note, o.operator_vkey);
      setStatus($("#checkpoint-status"), true, `checkpoint ${cp.size}: signature verified in this page`);
    } catch (e) {
      setStatus($("#checkpoint-status"), false, `checkpoint: ${e.message}`);
    }
    $("#at").value = o.default_at;
  }
  const plots = $("#plots");
  for (const name of o.plots.filter((n) => n.endsWith(".svg"))) {
    plots.append(el("img", { src: "analysis/" + encodeURIComponent(name), alt: name }));
  }
  // Show only what this workspace holds: no analysis tab without an analysis, no negotiation tab
  // without proposals.
  $('nav button[data-tab="analysis"]').hidden = !plots.children.length;
  $('nav button[data-tab="negotiation"]').hidden = !o.proposals.length;
}

async function loadFindings() {
  const at = $("#at").value;
  const data = await api("findings?at=" + encodeURIComponent(at));
  state.findings = data.findings;
  state.checkpoint = data.checkpoint;
  const body = $("#findings-table tbody");
  body.replaceChildren();
  const counts = {};
  data.findings.forEach((f, i) => {
    counts[f.status] = (counts[f.status] || 0) + 1;
    const tr = el("tr", { "data-index": i, "data-obligation": f.obligation, "data-party": f.party });
    const what = el("td");
    what.append(el("div", {}, f.agreement), el("div", { class: "muted" }, f.obligation));
    tr.append(what, el("td", {}, f.party), el("td", {}, f.interpretation ? `${f.interpretation} reading` : "agreed text"));
    tr.append(el("td", { class: f.status }, f.status.replace("_", " ") + (f.hypothetical ? " (hyp.)" : "")));
    tr.append(el("td", {}, `${f.value ?? "—"} / ${f.bound ?? "—"}`));
    tr.addEventListener("click", () => select(i, tr));
    body.append(tr);
  });
  $("#counts").textContent = Object.entries(counts).map(([k, v]) => `${k.replace("_", " ")}: ${v}`).join(" · ");
  $("#detail").hidden = true;
}

function select(i, tr) {
  document.querySelectorAll("#findings-table tr.selected").forEach((r) => r.classList.remove("selected"));
  tr.classList.add("selected");
  const f = state.findings[i];
  state.selected = f;
  $("#detail").hidden = false;
  $("#detail-title").textContent = `${f.obligation} — ${f.party}`;
  $("#detail-clause").textContent = `${f.agreement} · ${f.clause} · ${f.interpretation ? f.interpretation + " reading" : "agreed text"} · at ${f.at}`;
  const st = $("#detail-status");
  st.className = f.status;
  st.textContent = f.status.replace("_", " ") + (f.hypothetical ? " (hypothetical: evaluated as if in force)" : "");
  $("#detail-explanation").textContent = f.explanation;
  $("#detail-legal").hidden = !f.legal;
  $("#detail-legal").textContent = f.legal || "";
  const list = $("#evidence");
  list.replaceChildren();
  for (const e of f.evidence) {
    const li = el("li", { "data-index": e.index });
    li.append(el("span", { class: "mark" }, "·"), el("span", {}, `entry #${e.index} — ${e.kind} by ${e.author}, signed ${e.signed_at}: ${e.role}`));
    li.append(el("div", { class: "muted" }, `leaf hash ${e.leaf_hash}`));
    list.append(li);
  }
  setStatus($("#verify-result"), null, f.evidence.length ? "not yet verified" : "this finding cites no entry");
}

async function verifySelected() {
  const f = state.selected;
  const out = $("#verify-result");
  if (!f) return;
  try {
    const cp = await verifyCheckpoint(f.checkpoint.note, state.overview.operator_vkey);
    if (!equal(cp.root, unb64(f.checkpoint.root_hash)) || cp.size !== f.checkpoint.size) {
      throw new Error("the finding names a checkpoint that differs from the signed one");
    }
    let good = 0;
    for (const [k, e] of f.evidence.entries()) {
      const ok = await verifyInclusion(e.index, cp.size, unb64(e.leaf_hash), e.inclusion_proof.map(unb64), cp.root);
      const mark = $("#evidence").children[k].querySelector(".mark");
      mark.textContent = ok ? "✓" : "✗";
      mark.className = "mark " + (ok ? "compliant" : "violation");
      if (ok) good++;
    }
    const all = good === f.evidence.length;
    setStatus(out, all, all
      ? `verified: ${good} of ${good} entries are in the log at checkpoint ${cp.size}, signed by ${cp.origin}'s operator`
      : `FAILED: ${f.evidence.length - good} of ${f.evidence.length} proofs do not verify`);
  } catch (e) {
    setStatus(out, false, "FAILED: " + e.message);
  }
}

async function loadMap() {
  const data = await api("map");
  const svg = $("#map-svg");
  const sites = data.sites;
  const lons = sites.map((s) => s.lon), lats = sites.map((s) => s.lat);
  const [x0, x1] = [Math.min(...lons) - 8, Math.max(...lons) + 8];
  const [y0, y1] = [Math.min(...lats) - 6, Math.max(...lats) + 6];
  // equirectangular, stretched by cos(mid-latitude) so shapes keep their proportions
  const kx = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
  svg.setAttribute("viewBox", `${x0 * kx} ${-y1} ${(x1 - x0) * kx} ${y1 - y0}`);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  const ring = (r) => r.map(([x, y], i) => `${i ? "L" : "M"}${(x * kx).toFixed(3)},${(-y).toFixed(3)}`).join("") + "Z";
  for (const b of data.borders) {
    const g = b.geometry;
    const polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
    const d = polys.map((p) => p.map(ring).join("")).join("");
    const path = svgEl("path", { d, "data-name": b.name });
    path.append(svgEl("title"));
    path.lastChild.textContent = b.name;
    svg.append(path);
  }
  const colour = { US: "#1f5fa8", RU: "#b3261e" };
  const r = Math.max((x1 - x0) * kx, y1 - y0) / 160;
  for (const s of sites) {
    const c = svgEl("circle", { cx: s.lon * kx, cy: -s.lat, r, fill: colour[s.owner] || "#555", "data-site": s.id });
    const t = svgEl("title");
    t.textContent = `${s.name} (${s.kind}, ${s.owner})`;
    c.append(t);
    c.addEventListener("click", () => {
      $("#site-info").textContent = `${s.name} — ${s.kind}; owner ${s.owner}, host ${s.host}; ${s.lat.toFixed(2)}°, ${s.lon.toFixed(2)}°`;
    });
    svg.append(c);
  }
}

async function loadTimeline() {
  const rows = await api("timeline");
  const body = $("#timeline-table tbody");
  body.replaceChildren();
  for (const r of rows.slice().reverse().slice(0, 500)) {
    const tr = el("tr");
    tr.append(el("td", {}, r.index), el("td", {}, r.signed_at), el("td", {}, r.author), el("td", {}, r.kind));
    body.append(tr);
  }
  // records per month, as bars
  const months = new Map();
  for (const r of rows) { const m = r.signed_at.slice(0, 7); months.set(m, (months.get(m) || 0) + 1); }
  const keys = [...months.keys()].sort();
  const svg = $("#timeline-svg");
  svg.replaceChildren();
  if (!keys.length) return;
  const max = Math.max(...months.values());
  svg.setAttribute("viewBox", `0 0 ${keys.length * 30} 120`);
  keys.forEach((k, i) => {
    const h = (months.get(k) / max) * 90;
    const bar = svgEl("rect", { x: i * 30 + 4, y: 100 - h, width: 22, height: h, fill: "#5b7ea3" });
    const t = svgEl("title");
    t.textContent = `${k}: ${months.get(k)} records`;
    bar.append(t);
    const label = svgEl("text", { x: i * 30 + 15, y: 115, "text-anchor": "middle", "font-size": 8 });
    label.textContent = k;
    svg.append(bar, label);
  });
}

async function loadNegotiation() {
  const data = await api("negotiation?at=" + encodeURIComponent($("#at").value || ""));
  const box = $("#negotiation-body");
  box.replaceChildren();
  for (const d of data.diffs) {
    box.append(el("h3", {}, `${d.a.title} — against — ${d.b.title}`));
    box.append(el("p", {}, `${d.in_both.length} rule(s) in both; ${d.related.length} meeting in scope; ` +
      `${d.only_in_a.length} only in the first; ${d.only_in_b.length} only in the second.`));
    const ul = el("ul");
    for (const x of d.related) ul.append(el("li", {}, `${x.a.id} (${x.a.clause}) and ${x.b.id} (${x.b.clause}): ${x.how}`));
    for (const x of d.asymmetries) ul.append(el("li", {}, `asymmetry: ${x.agreement}/${x.id} binds ${x.parties.join(", ")} only`));
    box.append(ul);
  }
  const body = $("#impact-table tbody");
  body.replaceChildren();
  for (const imp of data.impacts) {
    for (const [party, rows] of Object.entries(imp.parties)) {
      for (const x of rows) {
        const tr = el("tr", { "data-proposal": imp.proposal });
        const where = x.sites.slice(0, 4).map((s) => `${s.site} (${s.count})`).join(", ");
        tr.append(el("td", {}, imp.proposal), el("td", {}, party),
          el("td", {}, x.obligation + (x.reading !== "agreed text" ? ` (${x.reading})` : "")),
          el("td", { class: x.status }, x.status), el("td", {}, where), el("td", {}, x.remedy));
        body.append(tr);
      }
    }
  }
}

function tabs() {
  for (const b of document.querySelectorAll("nav button")) {
    b.addEventListener("click", () => {
      document.querySelectorAll("nav button, .tab").forEach((x) => x.classList.remove("active"));
      b.classList.add("active");
      $("#" + b.dataset.tab).classList.add("active");
    });
  }
}

async function main() {
  tabs();
  $("#verify").addEventListener("click", verifySelected);
  $("#at-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadFindings(); });
  await loadOverview();
  await Promise.all([state.overview.checkpoint ? loadFindings() : null, loadMap(), loadTimeline(),
    state.overview.checkpoint && state.overview.proposals.length ? loadNegotiation() : null]);
  document.body.dataset.ready = "true";
}
main().catch((e) => { $("#log-line").textContent = "error: " + e.message; document.body.dataset.ready = "error"; });
