"use strict";
// Draws the whole report from the JSON above. Text always goes in through
// textContent: names come from manifests, never markup.
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const V = D.vertices;
  const SVG = "http://www.w3.org/2000/svg"; // a namespace name, never fetched
  // Above this many rows the matrix is drawn on a canvas, not as table cells.
  const TABLE_LIMIT = 300;

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }
  const byId = (id) => document.getElementById(id);
  // Too many pairs of workloads for one page: a vertex is a namespace.
  const BY_NS = D.by === "namespace";
  const group = (v) => (v.ns === null ? null : BY_NS ? "namespaces" : v.ns);
  // The command that draws the workloads of namespaces `nss` (or of all).
  const narrowed = (nss) => `netpol report ${D.inputs.join(" ")} ${nss.map((n) => "--namespace-filter " + n).join(" ")} -o FILE`;

  const count = (n, what) => `${n} ${what}${n === 1 ? "" : "s"}`;

  function byNamespaceNotice() {
    if (!BY_NS) return;
    const why = (D.workloadPairs > D.pairLimit ? `${count(D.workloadPairs, "pair")} of workloads are too many for one page, so it` : "This page")
      + " is drawn by namespace: each box and row is a namespace, its connections those of its workloads summed. To see the workloads of some namespaces, narrow the report:";
    for (const id of ["graph", "matrix"]) {
      byId(id).querySelector(".hint").after(el("div", { class: "notice" }, why, el("pre", {}, narrowed(["NS"]))));
    }
  }

  // ---- summary
  function summary() {
    const S = D.summary;
    byId("inputs").textContent = D.inputs.join("  ");
    const cards = el("div", { class: "cards" });
    const card = (n, what) => cards.append(el("div", { class: "card" }, el("b", {}, n), what));
    card(S.namespaces.length, "namespaces");
    card(S.workloads, "workloads");
    card(S.endpoints, "pods or templates");
    card(S.policies, "NetworkPolicies");
    card(S.externals.length, "external peers");
    card(S.allowed + " / " + S.connections, "connections allowed");
    const t = el("table", { class: "ns-table" },
      el("tr", {}, el("th", {}, "namespace"), el("th", {}, "workloads"), el("th", {}, "policies"),
        el("th", {}, "ingress isolated"), el("th", {}, "egress isolated")));
    for (const n of S.namespaces) {
      const iso = (k) => {
        const cls = n.endpoints === 0 ? "" : k === n.endpoints ? "closed" : k === 0 ? "open" : "";
        return el("td", { class: "num " + cls }, k + " / " + n.endpoints);
      };
      t.append(el("tr", {}, el("td", {}, n.name), el("td", { class: "num" }, n.workloads),
        el("td", { class: "num" }, n.policies), iso(n.isolatedIngress), iso(n.isolatedEgress)));
    }
    const sec = byId("summary");
    sec.append(cards, t);
    if (S.externals.length) {
      const p = el("p", { class: "hint" }, "External peers, each decided at one address: ");
      S.externals.forEach((e, i) => p.append((i ? ", " : ""), el("code", {}, e.label), " at " + e.address));
      sec.append(p);
    }
  }

  // The graph's edges: pairs with some connection allowed, between two workloads.
  const EDGES = [];
  for (let k = 0; 4 * k < D.pairs.length; k++) {
    const s = D.pairs[4 * k], d = D.pairs[4 * k + 1], a = D.pairs[4 * k + 2], c = D.pairs[4 * k + 3];
    if (s !== d && a > 0) EDGES.push([s, d, a === c ? `all ${c} allowed` : `${a} of ${c} allowed`]);
  }

  // ---- graph: namespaces as columns, workloads stacked, external peers last
  function graph() {
    const groups = new Map();
    V.forEach((v, i) => {
      const key = group(v) === null ? "\u0000external" : group(v);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(i);
    });
    const keys = [...groups.keys()].sort((a, b) => (a.startsWith("\u0000") ? 1 : b.startsWith("\u0000") ? -1 : a < b ? -1 : 1));
    const W = 190, H = 22, GAP = 6, COLGAP = 90, TOP = 30, PERCOL = 40;
    const pos = new Array(V.length);
    let x = 10, maxY = 0;
    const s = svg("svg", { role: "img", "aria-label": "graph of allowed connections" });
    const nsLayer = svg("g"), edgeLayer = svg("g"), nodeLayer = svg("g");
    const defs = svg("defs");
    const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#4a78a8" }));
    defs.append(marker);
    s.append(defs, nsLayer, edgeLayer, nodeLayer);
    for (const k of keys) {
      const members = groups.get(k);
      // A long namespace wraps into several columns.
      for (let start = 0; start < members.length; start += PERCOL) {
        const chunk = members.slice(start, start + PERCOL);
        const h = chunk.length * (H + GAP) + GAP + 18;
        nsLayer.append(svg("rect", { class: "gns", x: x - 6, y: TOP - 20, width: W + 12, height: h, rx: 6 }));
        const label = svg("text", { x: x, y: TOP - 6, "font-weight": "bold" });
        label.textContent = k.startsWith("\u0000") ? "external" : k;
        nsLayer.append(label);
        chunk.forEach((vi, j) => {
          const y = TOP + GAP + j * (H + GAP);
          pos[vi] = { x, y };
          const g = svg("g", { class: "gnode" + (V[vi].ns === null ? " external" : ""), "data-v": vi });
          const r = svg("rect", { x, y, width: W, height: H, rx: 4 });
          const t = svg("text", { x: x + 6, y: y + 15 });
          t.textContent = V[vi].label.length > 30 ? V[vi].label.slice(0, 29) + "\u2026" : V[vi].label;
          const title = svg("title");
          title.textContent = V[vi].id;
          g.append(r, t, title);
          g.addEventListener("click", () => highlight(vi));
          nodeLayer.append(g);
          maxY = Math.max(maxY, y + H);
        });
        x += W + COLGAP;
      }
    }
    const paths = [];
    // Thousands of curves make the page crawl: past EDGE_LIMIT a workload's
    // edges are drawn when it is clicked.
    const EDGE_LIMIT = 2500;
    const drawAll = EDGES.length <= EDGE_LIMIT;
    const drawn = new Set();
    if (!drawAll) {
      byId("graph").querySelector(".hint").append(` ${EDGES.length} connections: too many to draw at once; click a workload to draw its own.`);
    }
    function drawEdge(e) {
      if (drawn.has(e)) return;
      drawn.add(e);
      const [a, b, label] = EDGES[e];
      const p = pos[a], q = pos[b];
      if (!p || !q) return;
      const y1 = p.y + H / 2, y2 = q.y + H / 2;
      let d;
      if (q.x > p.x) { // rightwards: right side to left side
        const x1 = p.x + W, x2 = q.x, dx = Math.max(40, (x2 - x1) / 2);
        d = `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
      } else if (q.x < p.x) { // leftwards: left side to right side
        const x1 = p.x, x2 = q.x + W, dx = Math.max(40, (x1 - x2) / 2);
        d = `M${x1},${y1} C${x1 - dx},${y1} ${x2 + dx},${y2} ${x2},${y2}`;
      } else { // the same column: a loop out of the right side
        const x1 = p.x + W, bulge = 30 + Math.min(60, Math.abs(y2 - y1) / 4);
        d = `M${x1},${y1} C${x1 + bulge},${y1} ${x1 + bulge},${y2} ${x1},${y2}`;
      }
      const path = svg("path", { class: "gedge", d, "marker-end": "url(#arrow)" });
      const title = svg("title");
      title.textContent = `${V[a].id} \u2192 ${V[b].id}: ${label}`;
      path.append(title);
      path.dataset.a = a; path.dataset.b = b;
      edgeLayer.append(path);
      paths.push(path);
    }
    if (drawAll) EDGES.forEach((_, e) => drawEdge(e));
    s.setAttribute("width", x);
    s.setAttribute("height", maxY + 20);
    s.setAttribute("viewBox", `0 0 ${x} ${maxY + 20}`);
    byId("graph-box").append(s);
    let active = -1;
    function highlight(vi) {
      active = active === vi ? -1 : vi;
      if (!drawAll && active >= 0) EDGES.forEach((e, k) => { if (e[0] === vi || e[1] === vi) drawEdge(k); });
      nodeLayer.querySelectorAll(".gnode").forEach((g) => g.classList.toggle("active", +g.dataset.v === active));
      for (const p of paths) p.classList.toggle("active", +p.dataset.a === active || +p.dataset.b === active);
    }
  }

  // ---- matrix
  // D.pairs is flat: source, destination, allowed, connections, per pair.
  const pair = (k) => D.pairs.slice(4 * k, 4 * k + 4);
  const pairOf = new Map();
  for (let k = 0; 4 * k < D.pairs.length; k++) pairOf.set(D.pairs[4 * k] * V.length + D.pairs[4 * k + 1], k);
  const tip = el("div", { id: "tip" });
  document.body.append(tip);

  function cellClass(k) {
    if (k === undefined) return "blank";
    const a = D.pairs[4 * k + 2], c = D.pairs[4 * k + 3];
    return a === 0 ? "denied" : a === c ? "all" : "some";
  }
  function describe(k, s, d) {
    if (k === undefined) return `${V[s].id} \u2192 ${V[d].id}: no declared ports`;
    const [, , a, c] = pair(k);
    return `${V[s].id} \u2192 ${V[d].id}: ${a} of ${c} connections allowed`;
  }

  function matrix() {
    const input = byId("filter");
    let timer = 0;
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(draw, 120); });
    draw();
    function draw() {
      const q = input.value.trim().toLowerCase();
      const shown = [];
      V.forEach((v, i) => { if (!q || v.id.toLowerCase().includes(q)) shown.push(i); });
      byId("matrix-count").textContent = `${shown.length} of ${V.length} shown`;
      const box = byId("matrix-box");
      box.replaceChildren();
      if (shown.length <= TABLE_LIMIT) table(box, shown); else canvas(box, shown);
    }
  }

  function table(box, shown) {
    const t = el("table", { class: "heat" });
    const head = el("tr", {}, el("th", {}, "source \\ destination"));
    for (const d of shown) head.append(el("th", { class: "col", title: V[d].id }, V[d].id));
    t.append(head);
    for (const s of shown) {
      const tr = el("tr", {}, el("th", { class: "row" }, V[s].id));
      for (const d of shown) {
        const k = pairOf.get(s * V.length + d);
        const td = el("td", { class: "cell " + cellClass(k), title: describe(k, s, d) });
        if (k !== undefined) td.addEventListener("click", () => { pick(td); trace(k); });
        tr.append(td);
      }
      t.append(tr);
    }
    box.append(t);
  }

  let picked = null;
  function pick(td) {
    if (picked) picked.classList.remove("picked");
    picked = td;
    td.classList.add("picked");
  }

  // Thousands of rows: one canvas, drawn once, cells found from the mouse.
  function canvas(box, shown) {
    const n = shown.length;
    const size = Math.max(1, Math.min(8, Math.floor(4000 / n)));
    const c = el("canvas", { width: n * size, height: n * size });
    const g = c.getContext("2d");
    const colour = { all: "#2e9d4a", some: "#e0a31a", denied: "#d0453a", blank: "#e8e8e8" };
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        g.fillStyle = colour[cellClass(pairOf.get(shown[i] * V.length + shown[j]))];
        g.fillRect(j * size, i * size, size, size);
      }
    }
    const at = (ev) => {
      const r = c.getBoundingClientRect();
      const i = Math.floor((ev.clientY - r.top) / size), j = Math.floor((ev.clientX - r.left) / size);
      return i >= 0 && j >= 0 && i < n && j < n ? [shown[i], shown[j]] : null;
    };
    c.addEventListener("mousemove", (ev) => {
      const p = at(ev);
      if (!p) { tip.style.display = "none"; return; }
      tip.textContent = describe(pairOf.get(p[0] * V.length + p[1]), p[0], p[1]);
      tip.style.left = ev.clientX + 12 + "px"; tip.style.top = ev.clientY + 12 + "px"; tip.style.display = "block";
    });
    c.addEventListener("mouseleave", () => { tip.style.display = "none"; });
    c.addEventListener("click", (ev) => {
      const p = at(ev);
      const k = p && pairOf.get(p[0] * V.length + p[1]);
      if (k !== undefined && k !== null) trace(k);
    });
    box.append(el("p", { class: "hint" }, `${n} rows: drawn on a canvas; hover for names, filter to see labels.`), c);
  }

  // ---- explain traces
  function trace(k) {
    const [s, d, a, c] = pair(k);
    const has = Object.prototype.hasOwnProperty.call(D.traces, String(k));
    const box = byId("trace");
    box.replaceChildren(el("h3", {}, `${V[s].id} \u2192 ${V[d].id}: ${a} of ${c} allowed`));
    if (BY_NS) {
      const nss = [...new Set([V[s].ns, V[d].ns].filter((n) => n !== null))];
      box.append(el("p", {}, "The page is drawn by namespace. The workloads of this pair, each with its traces:"),
        el("pre", {}, narrowed(nss)));
      return;
    }
    const who = (v) => (v.address ? v.address : v.pod);
    if (!has) {
      box.append(el("p", {}, `Not embedded (the report keeps at most ${D.traceBudget} traces). Ask the engine:`),
        el("pre", {}, `netpol explain ${D.inputs.join(" ")} --from ${who(V[s])} --to ${who(V[d])} --port PORT`));
      return;
    }
    if (V[s].pods > 1 || V[d].pods > 1) {
      box.append(el("p", { class: "hint" }, `Traced between ${who(V[s])} and ${who(V[d])}, one pod of each workload.`));
    }
    for (const v of D.traces[k]) box.append(verdict(v));
    box.scrollIntoView({ block: "nearest" });
  }

  function verdict(v) {
    const word = v.allowed ? "ALLOWED" : "DENIED";
    const div = el("div", { class: "verdict " + (v.allowed ? "allowed" : "denied") },
      el("div", {}, el("span", { class: word }, word), ` ${v.src} \u2192 ${v.dst} ${v.port}/${v.protocol}`,
        el("span", { class: "hint" }, ` (decided by ${v.decidedBy})`)));
    const sides = v.byFamily && v.byFamily.length ? v.byFamily.flatMap((f) => [["over " + f.family + ": egress", f.egress], ["over " + f.family + ": ingress", f.ingress]]) : [["egress", v.egress], ["ingress", v.ingress]];
    for (const [name, side] of sides) {
      const sd = el("div", { class: "side" }, el("b", {}, name + " of " + side.subject + ": "),
        el("span", { class: side.allowed ? "ALLOWED" : "DENIED" }, side.allowed ? "allowed" : "denied"), " \u2014 " + side.reason);
      for (const p of side.policies) {
        sd.append(el("div", { class: "rule" }, `policy ${p.policy} (${p.location}): ${p.allowed ? "allows" : "does not allow"}`));
        for (const r of p.rules) {
          sd.append(el("div", { class: "rule" }, `${r.rule} (line ${r.line}): ${r.allowed ? "matches" : "does not match"}`));
          for (const ch of r.peers.concat(r.ports)) {
            sd.append(el("div", { class: "check " + (ch.matched ? "hit" : "miss") }, `${ch.item} ${ch.description}: ${ch.reason}`));
          }
        }
      }
      div.append(sd);
    }
    return div;
  }

  // ---- findings and workloads
  function findings() {
    const list = (title, items, empty) => {
      const box = el("div", {}, el("h3", {}, `${title} (${items.length})`));
      if (!items.length) box.append(el("p", { class: "hint" }, empty));
      for (const f of items) {
        box.append(el("div", { class: "finding " + f.severity },
          el("b", {}, f.title), " ", f.detail, f.location ? el("div", { class: "where" }, f.location) : ""));
      }
      return box;
    };
    byId("lint").append(list("Lint", D.lint, "No lint finding."));
    byId("verify").append(D.verify === null
      ? el("p", { class: "hint" }, "No flows file given: run with --flows FLOWS to verify the policies against it.")
      : list("Verify against the flows", D.verify, "The policies implement the flows."));
  }

  function workloads() {
    const box = byId("workload-list");
    let ns;
    let ul;
    for (const v of V) {
      const name = group(v) === null ? "external peers" : group(v);
      if (name !== ns) {
        ns = name;
        ul = el("ul", { class: "workloads" });
        box.append(el("h3", {}, ns), ul);
      }
      const size = BY_NS && v.ns !== null ? ` (${count(v.workloads, "workload")}, ${count(v.pods, "pod")})` : v.pods > 1 ? ` (${v.pods} pods)` : "";
      ul.append(el("li", { "data-id": v.id }, v.id + size + (v.address ? ` at ${v.address}` : "")));
    }
  }

  summary();
  byNamespaceNotice();
  graph();
  matrix();
  findings();
  workloads();
  // `report.html#trace=K` opens pair K's trace: a link to one cell.
  const m = location.hash.match(/^#trace=(\d+)$/);
  if (m && 4 * +m[1] < D.pairs.length) trace(+m[1]);
  document.body.dataset.ready = "true";
})();
