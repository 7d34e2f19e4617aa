// The endpoint's web page: dataset facts, a query editor (YASQE, vendored) with the named
// queries and their parameters, results that sort, page, download and show labels in the
// chosen language, and permalinks. Everything comes from this server (/api/info, /queries,
// /sparql); nothing is fetched from elsewhere, so the page works offline.
//
// The URL the page reads (a permalink, or /sparql?query=… opened in a browser):
//   ?query=TEXT            load TEXT into the editor and run it
//   ?named=NAME&P=V…       pick the named query NAME, fill its parameters P, run it
//   /queries/NAME?P=V…     the same, opened in a browser (the server sends this page)
//   &lang=ja               labels in that language (en, ja, zh-Hant, zh-Hans)
"use strict";

const WD = "http://www.wikidata.org/entity/";
const LANGUAGES = ["en", "ja", "zh-Hant", "zh-Hans"];
const $ = (id) => document.getElementById(id);
let namedQueries = [];
let info = null;
let editor = null;
// The base of the data IRIs (VoID uriSpace): such IRIs link to this server's own pages.
let uriSpace = "https://w3id.org/twinning-kg/";
// A language chosen on the switch (remembered) also goes to the resource pages (?lang=).
let langChosen = false;
let lang = initialLanguage();

function initialLanguage() {
  let stored = null;
  try { stored = localStorage.getItem("kg-lang"); } catch (e) { stored = null; }
  if (stored && LANGUAGES.includes(stored)) {
    langChosen = true;
    return stored;
  }
  for (const tag of navigator.languages || []) {
    const low = tag.toLowerCase();
    if (low.startsWith("ja")) return "ja";
    if (/^zh-(hant|tw|hk|mo)/.test(low)) return "zh-Hant";
    if (low.startsWith("zh")) return "zh-Hans";
    if (low.startsWith("en")) return "en";
  }
  return "en";
}

// [text, tag] from a {tag: text} map: the chosen language, else the nearest one.
function pickTagged(map, fallback) {
  const byTag = {};
  for (const [tag, text] of Object.entries(map || {})) byTag[tag.toLowerCase()] = [text, tag];
  const want = lang.toLowerCase();
  const order = [want, ...(want.startsWith("zh") ? ["zh", "zh-hant", "zh-hans"] : []),
                 "en", "", ...LANGUAGES.map((t) => t.toLowerCase())];
  for (const tag of order) if (byTag[tag]) return byTag[tag];
  const any = Object.values(byTag);
  return any.length ? any[0] : [fallback, ""];
}

// The element's text in a language, with the matching lang attribute (screen readers, fonts).
function setText(node, [text, tag]) {
  node.textContent = text;
  if (tag) node.setAttribute("lang", tag); else node.removeAttribute("lang");
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Only http(s) URLs and this server's own paths become links: an IRI such as
// javascript:alert(1) or data:… in a result is shown as text, never made clickable.
const SAFE_HREF = /^(https?:\/\/|\/(?![\/\\]))/i;

function link(href, text) {
  if (!SAFE_HREF.test(href)) return document.createTextNode(String(text));
  return el("a", { href, rel: "noopener" }, text);
}

function wikidataLink(qid) {
  return link("https://www.wikidata.org/wiki/" + qid, "wd:" + qid);
}

function formatBytes(n) {
  if (n < 1024) return n + " B";
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KiB";
  return (n / 1024 / 1024).toFixed(1) + " MiB";
}

function fact(dl, name, value) {
  if (value === undefined || value === null || value === "" ||
      (Array.isArray(value) && value.length === 0)) return;
  const dd = el("dd");
  if (Array.isArray(value)) {
    value.forEach((v, i) => { if (i) dd.append(", "); dd.append(v); });
  } else {
    dd.append(value);
  }
  dl.append(el("dt", {}, name), dd);
}

function asLink(text) {
  return /^https?:\/\//.test(text) ? link(text, text) : text;
}

async function loadInfo() {
  info = await (await fetch("/api/info")).json();
  if (info.uri_space) uriSpace = info.uri_space;
  showInfo();
  const dumps = $("dumps");
  for (const d of info.dumps) {
    dumps.append(el("li", {}, link(d.url, d.name), ` (${formatBytes(d.bytes)}, ${d.type.split(";")[0]})`));
  }
  if (!info.dumps.length) dumps.append(el("li", {}, "no files to download"));
}

function sourceItem(s) {
  const [title, tag] = pickTagged(s.titles, s.iri);
  const item = el("span", { class: "source" }, link(localHref(s.iri) || s.iri, title));
  if (tag) item.firstChild.setAttribute("lang", tag);
  if (s.file) item.append(" (", el("code", {}, s.file), ")");
  return item;
}

// The dataset facts in the chosen language (labels only: the interface stays English).
function showInfo() {
  if (!info) return;
  const title = pickTagged(info.titles, info.title);
  document.title = title[0] + " — SPARQL endpoint";
  setText($("title"), title);
  setText($("description"), pickTagged(info.descriptions, info.description));
  const dl = $("facts");
  dl.replaceChildren();
  fact(dl, "Triples", Number(info.triples).toLocaleString("en"));
  fact(dl, "Named graphs", info.graphs);
  fact(dl, "Wikidata items linked", info.wikidata_entities);
  const details = info.source_details && info.source_details.length
    ? info.source_details.map(sourceItem) : info.sources.map(asLink);
  fact(dl, "Sources", details);
  fact(dl, "Licence", info.license ? asLink(info.license) : "");
  fact(dl, "Last build", info.modified || info.created || info.built);
  const classes = $("classes");
  classes.replaceChildren();
  if (info.classes.length) {
    const ul = el("ul");
    for (const c of info.classes) {
      // The prefixed name tells tw:Place from schema:Place; the label is the ontology's.
      const name = c.curie || c.class;
      const [label, tag] = pickTagged(c.labels, "");
      const href = localHref(c.class) || (/^https?:\/\//.test(c.class) ? c.class : null);
      const item = el("li", { "data-class": c.class });
      item.append(href ? link(href, name) : name);
      if (label) item.append(" ", el("span", { class: "term-label", lang: tag || null }, label));
      item.append(": " + c.count);
      ul.append(item);
    }
    classes.append(el("p", { class: "note" }, "Resources by type:"), ul);
  }
}

function setLanguage(value) {
  lang = LANGUAGES.includes(value) ? value : "en";
  langChosen = true;
  try { localStorage.setItem("kg-lang", lang); } catch (e) { /* private mode */ }
  $("lang-select").value = lang;
  showInfo();
  if (result) showResult();
}

// The local page of an IRI the dataset mints (or of an ontology term), else null.
function localHref(iri) {
  const onto = "https://w3id.org/twinning-kg/ontology";
  let path = null;
  if (iri.startsWith(uriSpace) && iri.length > uriSpace.length) path = "/" + iri.slice(uriSpace.length);
  else if (iri === onto || iri.startsWith(onto + "#")) path = "/ontology" + iri.slice(onto.length);
  if (path === null) return null;
  if (!langChosen || path.startsWith("/ontology")) return path;
  const hash = path.indexOf("#");
  const [bare, frag] = hash >= 0 ? [path.slice(0, hash), path.slice(hash)] : [path, ""];
  return `${bare}?lang=${encodeURIComponent(lang)}${frag}`;
}

// --- the editor ---------------------------------------------------------------------------

const DEFAULT_QUERY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 25";
// Prefixes the dataset uses (prefix -> namespace), from the PREFIX lines of its named
// queries and the prefixed names of its classes: prefix completion offers these, and
// result IRIs are shown with them. Nothing is asked of prefix.cc.
const datasetPrefixes = new Map();
const PREFIX_DECL = /^\s*PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>\s]*)>/gim;

function learnPrefixes(text) {
  for (const m of text.matchAll(PREFIX_DECL)) {
    const prefix = m[1] || "";
    if (prefix && !datasetPrefixes.has(prefix)) datasetPrefixes.set(prefix, m[2]);
  }
}

// YASQE configured to fetch nothing: no LOV class/property completion, no prefix.cc, no
// share links, nothing kept in localStorage (the URL is the permalink). Without YASQE
// (a script blocked or missing) a plain text area does the same job.
function makeEditor() {
  const holder = $("editor");
  if (typeof Yasqe !== "function") {
    const area = el("textarea", { spellcheck: "false", rows: "14", "aria-label": "SPARQL query" });
    area.value = DEFAULT_QUERY;
    area.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run();
    });
    holder.append(area);
    return { getValue: () => area.value, setValue: (text) => { area.value = text; },
             enablePrefixes() {} };
  }
  // Registering a completer also enables it by default, the online ones included: start
  // from none and name the two that work offline.
  Yasqe.defaults.autocompleters.splice(0);
  Yasqe.forkAutocompleter("prefixes", {
    name: "dataset-prefixes",
    persistenceId: null,
    get: () => [...datasetPrefixes].map(([p, ns]) => `${p}: <${ns}>`).sort(),
  }, false);
  const yasqe = new Yasqe(holder, {
    value: DEFAULT_QUERY,
    persistenceId: null,
    consumeShareLink: null,
    createShareableLink: null,
    showQueryButton: false,
    resizeable: true,
    editorHeight: "17rem",
    autocompleters: ["variables"],
    requestConfig: { endpoint: "/sparql", method: "POST" },
    extraKeys: { "Ctrl-Enter": () => run(), "Cmd-Enter": () => run() },
  });
  let prefixesOn = false;
  return {
    getValue: () => yasqe.getValue(),
    setValue: (text) => yasqe.setValue(text),
    // Once the dataset's prefixes are known (the completer reads its list when enabled).
    enablePrefixes() {
      if (prefixesOn) return;
      prefixesOn = true;
      yasqe.enableCompleter("dataset-prefixes").catch(() => {});
    },
    yasqe,
  };
}

async function loadQueries() {
  namedQueries = await (await fetch("/queries")).json();
  const select = $("query-select");
  for (const q of namedQueries) {
    select.append(el("option", { value: q.name }, q.title));
    learnPrefixes(q.text);
  }
  select.addEventListener("change", () => pick(select.value));
}

function selected() {
  return namedQueries.find((q) => q.name === $("query-select").value);
}

function pick(name, values) {
  const q = namedQueries.find((x) => x.name === name);
  const params = $("params");
  params.replaceChildren();
  $("query-description").textContent = q ? q.description : "";
  if (!q) return;
  editor.setValue(q.text);
  for (const p of q.params) {
    const input = el("input", { name: p.name, placeholder: p.types.join(" | "),
                                "data-param": p.name });
    input.value = values && values.has(p.name) ? values.get(p.name) : (p.default || "");
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") run(); });
    params.append(el("label", { title: p.description }, `${p.name}${p.required ? " *" : ""}`, input));
  }
}

// --- what a run asks for, and its links ----------------------------------------------------

// The named query as published when its text is unchanged (run by name, with its
// parameters), else the editor's text.
function currentRequest() {
  const text = editor.getValue();
  const q = selected();
  if (q && text === q.text) {
    const params = new URLSearchParams();
    for (const input of document.querySelectorAll("#params input")) {
      if (input.value !== "") params.append(input.dataset.param, input.value);
    }
    return { named: q.name, params, text };
  }
  return { named: null, params: null, text };
}

function fetchResults(request, accept) {
  if (request.named) {
    return fetch(`/queries/${encodeURIComponent(request.named)}?${request.params}`,
                 { headers: { Accept: accept } });
  }
  return fetch("/sparql", { method: "POST", headers: { Accept: accept },
                            body: new URLSearchParams({ query: request.text }) });
}

// The page's own link (reopens the query, runs it, in this language) and the link a
// program can use for the same results. A named query's parameters go by their own names
// (readable links); "named", "query" and "lang" mean the page's own.
function links(request) {
  const page = new URLSearchParams();
  let endpoint;
  if (request.named) {
    page.set("named", request.named);
    for (const [key, value] of request.params) page.append(key, value);
    endpoint = `/queries/${encodeURIComponent(request.named)}?${request.params}`;
  } else {
    page.set("query", request.text);
    endpoint = "/sparql?" + new URLSearchParams({ query: request.text });
  }
  if (langChosen) page.set("lang", lang);
  return { page: "/?" + page, endpoint };
}

function showLinks(request) {
  const { page, endpoint } = links(request);
  $("permalink").href = page;
  $("permalink").hidden = false;
  $("query-url").href = endpoint;
  $("query-url").hidden = false;
  try { history.replaceState(null, "", page); } catch (e) { /* a file: URL */ }
}

// A permalink, or /sparql?query=… opened in a browser: load what the URL names. True if
// there is something to run.
function fromUrl() {
  const params = new URLSearchParams(location.search);
  const wanted = params.get("lang");
  if (wanted && LANGUAGES.includes(wanted) && wanted !== lang) {
    // As if chosen on the switch, so the map (map.js listens to it) follows too.
    $("lang-select").value = wanted;
    $("lang-select").dispatchEvent(new Event("change"));
  }
  // /queries/NAME?P=V… opened in a browser names the query by its path.
  const path = /^\/queries\/([^/]+)$/.exec(location.pathname);
  const named = path ? decodeURIComponent(path[1]) : params.get("named");
  if (named && namedQueries.some((q) => q.name === named)) {
    $("query-select").value = named;
    pick(named, params);
    return true;
  }
  const query = params.get("query");
  if (query) {
    $("query-select").value = "";
    pick("");
    editor.setValue(query);
    return true;
  }
  return false;
}

// --- results --------------------------------------------------------------------------------

// The last answer: kind "table" (vars, rows), "boolean" or "graph", its text and media
// type as received, and the request that gave it (downloads ask for it again).
let result = null;
let sortState = { column: null, descending: false };
let pageIndex = 0;
// Labels of result IRIs: IRI -> {tag: text} (rdfs:label, skos:prefLabel), asked for once.
const labels = new Map();
let labelsVersion = 0;  // counts the batches of labels received
const LABELS_AT_MOST = 2000;
const LABELS_WAIT_MS = 1500;
const NUMERIC = /#(integer|decimal|double|float|int|long|short|byte|nonNegativeInteger|positiveInteger|negativeInteger|nonPositiveInteger|unsignedInt|unsignedLong|unsignedShort|unsignedByte)$/;
// Datatypes a literal shows without ^^ (as Turtle writes them bare, or plain strings).
const BARE_TYPES = /^http:\/\/www\.w3\.org\/2001\/XMLSchema#(string|integer|decimal|double|boolean)$/;
// Characters an IRIREF cannot hold: such an IRI is never put into a labels query.
const NOT_IRIREF = /[\s<>"{}|^`\\]/;

function readable(path) {
  try { return decodeURI(path); } catch (e) { return path; }  // a stray % stays as it is
}

// The IRI as a prefixed name when a known prefix covers it with a plain local name.
function curie(iri, prefixes) {
  let best = null;
  for (const [prefix, ns] of prefixes) {
    if (ns && iri.startsWith(ns) && (!best || ns.length > best[1].length)) best = [prefix, ns];
  }
  // This dataset's own IRIs (no prefix of their own) as their path on this server, read
  // as text (place/zhwiki/華盛頓, not %E8%8F%AF…).
  if (!best) return iri.startsWith(uriSpace) && iri.length > uriSpace.length
    ? readable(iri.slice(uriSpace.length)) : iri;
  const local = iri.slice(best[1].length);
  return /^[\p{L}\p{N}_]([\p{L}\p{N}_.-]*[\p{L}\p{N}_-])?$/u.test(local) || local === ""
    ? `${best[0]}:${local}` : iri;
}

function resultPrefixes() {
  // The query's own PREFIX lines first, then the dataset's.
  const own = new Map();
  const text = result && result.request ? result.request.text : "";
  for (const m of text.matchAll(PREFIX_DECL)) if (m[1]) own.set(m[1], m[2]);
  for (const [p, ns] of datasetPrefixes) if (!own.has(p)) own.set(p, ns);
  return own;
}

function labelOf(iri) {
  const map = labels.get(iri);
  return map ? pickTagged(map, null) : [null, ""];
}

function displayText(term, prefixes) {
  if (!term) return "";
  if (term.type === "uri") {
    if (term.value.startsWith(WD)) return "wd:" + term.value.slice(WD.length);
    return labelOf(term.value)[0] || curie(term.value, prefixes);
  }
  if (term.type === "bnode") return "_:" + term.value;
  return String(term.value);
}

function cell(term, prefixes) {
  const td = el("td");
  if (!term) return td;
  if (term.type === "uri") {
    const iri = term.value;
    td.title = iri;
    if (iri.startsWith(WD)) {
      td.append(wikidataLink(iri.slice(WD.length)));
      return td;
    }
    const [label, tag] = labelOf(iri);
    const name = curie(iri, prefixes);
    const local = localHref(iri);
    const href = local || (/^https?:\/\//i.test(iri) ? iri : null);
    // urn:, mailto:, javascript:… are shown, never followed.
    const node = href ? link(href, label || name) : document.createTextNode(label || name);
    if (label && tag && node.setAttribute) node.setAttribute("lang", tag);
    td.append(node);
    if (label) td.append(el("span", { class: "curie" }, name));
    const qid = local && /^place\/(Q[1-9][0-9]*)$/.exec(iri.slice(uriSpace.length));
    if (qid) td.append(" ", el("a", { class: "wd", href: "https://www.wikidata.org/wiki/" + qid[1],
                                       rel: "noopener" }, "wd:" + qid[1]));
  } else if (term.type === "bnode") {
    td.append("_:" + term.value);
  } else if (term.type === "literal") {
    if (/^Q[1-9][0-9]*$/.test(term.value)) td.append(wikidataLink(term.value));
    else if (term["xml:lang"]) td.append(el("span", { lang: term["xml:lang"] }, term.value));
    else td.append(term.value);
    if (term["xml:lang"]) td.append(el("span", { class: "lang" }, "@" + term["xml:lang"]));
    else if (term.datatype && !BARE_TYPES.test(term.datatype)) {
      td.append(el("span", { class: "dt" }, "^^" + curie(term.datatype, prefixes)));
    }
    if (term.datatype) td.title = term.datatype;
  } else {
    td.append(JSON.stringify(term.value));
  }
  return td;
}

function sortKey(term, prefixes) {
  if (!term) return null;
  if (term.type === "literal" && NUMERIC.test(term.datatype || "")) {
    const n = Number(term.value);
    if (!Number.isNaN(n)) return n;
  }
  return displayText(term, prefixes);
}

// Rows in the order asked for: unbound last, numbers by value, text in the chosen
// language's collation; equal keys keep the server's order.
function orderedRows(prefixes) {
  const rows = result.rows;
  const column = sortState.column;
  if (column === null) return rows;
  // Sorted once per column, direction, language and labels (paging reuses the order).
  const key = [column, sortState.descending, lang, labelsVersion].join("\u0000");
  if (result.sorted && result.sorted.key === key) return result.sorted.rows;
  const collator = new Intl.Collator(lang, { numeric: true, sensitivity: "base" });
  const sign = sortState.descending ? -1 : 1;
  const keyed = rows.map((row, i) => [sortKey(row[column], prefixes), i, row]);
  keyed.sort((a, b) => {
    const [x, y] = [a[0], b[0]];
    if (x === null || y === null) return x === y ? a[1] - b[1] : (x === null ? 1 : -1);
    let c;
    if (typeof x === "number" && typeof y === "number") c = x - y;
    else if (typeof x === "number") c = -1;
    else if (typeof y === "number") c = 1;
    else c = collator.compare(x, y);
    return c ? sign * c : a[1] - b[1];
  });
  result.sorted = { key, rows: keyed.map((k) => k[2]) };
  return result.sorted.rows;
}

function pageSize() {
  return Number($("page-size").value) || 50;
}

function showTable() {
  const prefixes = resultPrefixes();
  const table = $("results");
  const head = el("tr");
  for (const v of result.vars) {
    const sorted = sortState.column === v;
    const th = el("th", { scope: "col",
                          "aria-sort": sorted ? (sortState.descending ? "descending" : "ascending") : null });
    const button = el("button", { type: "button", class: "sort", "data-var": v,
                                  title: "sort by " + v }, v);
    button.addEventListener("click", () => {
      sortState = sortState.column === v ? { column: v, descending: !sortState.descending }
                                         : { column: v, descending: false };
      pageIndex = 0;
      showTable();
    });
    th.append(button);
    head.append(th);
  }
  table.tHead.replaceChildren(head);
  const rows = orderedRows(prefixes);
  const size = pageSize();
  const pages = Math.max(1, Math.ceil(rows.length / size));
  pageIndex = Math.min(Math.max(pageIndex, 0), pages - 1);
  const first = pageIndex * size;
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const row of rows.slice(first, first + size)) {
    const tr = el("tr");
    for (const v of result.vars) tr.append(cell(row[v], prefixes));
    body.append(tr);
  }
  table.hidden = false;
  $("pager").hidden = rows.length <= size;
  $("page-info").textContent = rows.length
    ? `rows ${first + 1}–${Math.min(first + size, rows.length)} of ${rows.length}` : "";
  $("page-prev").disabled = pageIndex === 0;
  $("page-next").disabled = pageIndex >= pages - 1;
}

const DOWNLOADS = {
  table: [["CSV", "text/csv", "csv"], ["TSV", "text/tab-separated-values", "tsv"],
          ["JSON", "application/sparql-results+json", "json"]],
  boolean: [["JSON", "application/sparql-results+json", "json"]],
  graph: [["Turtle", "text/turtle", "ttl"], ["N-Triples", "application/n-triples", "nt"],
          ["JSON-LD", "application/ld+json", "jsonld"]],
};

function showDownloads() {
  const holder = $("downloads-for-results");
  holder.replaceChildren("Download: ");
  for (const [name, type, ext] of DOWNLOADS[result.kind]) {
    const button = el("button", { type: "button", class: "download", "data-format": ext }, name);
    button.addEventListener("click", () => download(type, ext));
    holder.append(button);
  }
  $("page-size-label").hidden = result.kind !== "table";
  $("result-bar").hidden = false;
}

// The results in another format: the answer already received when it is that format,
// else the same request again with that Accept (the server writes every format itself).
async function download(type, ext) {
  const status = $("status");
  let blob;
  try {
    if (result.type.split(";")[0].trim() === type) {
      blob = new Blob([result.text], { type });
    } else {
      const response = await fetchResults(result.request, type);
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${(await response.text()).trim()}`);
      blob = await response.blob();
    }
  } catch (err) {
    status.className = "error";
    status.textContent = "download failed: " + (err.message || err);
    return;
  }
  const a = el("a", { href: URL.createObjectURL(blob),
                      download: `${result.request.named || "query"}-results.${ext}` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

function showResult() {
  if (!result) return;
  if (result.kind === "table") showTable();
}

// Labels of the IRIs in the results (the first LABELS_AT_MOST not asked for yet), in
// batches of 200; true if any were asked for.
async function loadLabels(forResult) {
  const wanted = [];
  for (const row of forResult.rows) {
    for (const v of forResult.vars) {
      const term = row[v];
      if (!term || term.type !== "uri" || term.value.startsWith(WD) || labels.has(term.value)
          || NOT_IRIREF.test(term.value)) continue;
      labels.set(term.value, null);
      wanted.push(term.value);
      if (wanted.length >= LABELS_AT_MOST) break;
    }
    if (wanted.length >= LABELS_AT_MOST) break;
  }
  for (let i = 0; i < wanted.length; i += 200) {
    const values = wanted.slice(i, i + 200).map((iri) => `<${iri}>`).join(" ");
    const query = `SELECT ?s ?label WHERE { VALUES ?s { ${values} }
      ?s <http://www.w3.org/2000/01/rdf-schema#label>|<http://www.w3.org/2004/02/skos/core#prefLabel> ?label }`;
    const response = await fetch("/sparql", {
      method: "POST", headers: { Accept: "application/sparql-results+json" },
      body: new URLSearchParams({ query }),
    });
    if (!response.ok) return true;
    for (const b of (await response.json()).results.bindings) {
      if (!b.label || b.label.type !== "literal") continue;
      const map = labels.get(b.s.value) || {};
      const tag = b.label["xml:lang"] || "";
      if (!(tag in map) || b.label.value < map[tag]) map[tag] = b.label.value;
      labels.set(b.s.value, map);
    }
    labelsVersion += 1;
  }
  return wanted.length > 0;
}

async function run() {
  const button = $("run");
  const status = $("status");
  const request = currentRequest();
  for (const id of ["results", "graph-output", "truncated", "result-bar", "pager"]) $(id).hidden = true;
  status.className = "";
  status.textContent = "running…";
  button.disabled = true;
  const accept = "application/sparql-results+json, text/turtle;q=0.9";
  const started = performance.now();
  try {
    const response = await fetchResults(request, accept);
    const ms = Math.round(performance.now() - started);
    showLinks(request);
    if (!response.ok) {
      status.className = "error";
      status.textContent = `HTTP ${response.status}: ${(await response.text()).trim()}`;
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    const text = await response.text();
    if (type.includes("json")) {
      const data = JSON.parse(text);
      if ("boolean" in data) {
        result = { kind: "boolean", text, type, request };
        status.textContent = `answer: ${data.boolean} (${ms} ms)`;
      } else {
        const answer = { kind: "table", text, type, request, vars: data.head.vars || [],
                         rows: data.results.bindings };
        result = answer;
        sortState = { column: null, descending: false };
        pageIndex = 0;
        // The table is drawn once the labels are in (rows redrawn under the pointer would
        // lose a click), unless they take long: then at once, and again when they come.
        const labelled = loadLabels(answer).catch(() => false);
        const late = await Promise.race([labelled.then(() => false),
                                         new Promise((done) => setTimeout(done, LABELS_WAIT_MS, true))]);
        if (result !== answer) return;  // another run started meanwhile
        showTable();
        if (late) labelled.then((any) => { if (any && result === answer) showResult(); });
        const n = result.rows.length;
        status.textContent = `${n} row${n === 1 ? "" : "s"} (${ms} ms)`;
      }
      if (data.truncated) {
        $("truncated").textContent = data.truncated.message;
        $("truncated").hidden = false;
      }
    } else {
      result = { kind: "graph", text, type, request };
      const pre = $("graph-output");
      pre.textContent = text;
      pre.hidden = false;
      status.textContent = `graph (${ms} ms)`;
    }
    showDownloads();
    if (response.headers.get("X-Result-Truncated") === "true" && $("truncated").hidden) {
      $("truncated").textContent =
        `results cut at ${response.headers.get("X-Result-Limit")} by the server's row cap`;
      $("truncated").hidden = false;
    }
  } catch (err) {
    status.className = "error";
    status.textContent = String(err);
  } finally {
    button.disabled = false;
  }
}

editor = makeEditor();
$("lang-select").value = lang;
$("lang-select").addEventListener("change", (e) => setLanguage(e.target.value));
$("run").addEventListener("click", run);
$("page-size").addEventListener("change", () => { pageIndex = 0; showResult(); });
$("page-prev").addEventListener("click", () => { pageIndex -= 1; showResult(); });
$("page-next").addEventListener("click", () => { pageIndex += 1; showResult(); });
Promise.all([loadInfo(), loadQueries()]).then(() => {
  for (const c of info.classes) {
    // tw:Place and its class IRI give the namespace of tw:.
    const m = /^([A-Za-z][\w.-]*):(.+)$/.exec(c.curie || "");
    if (m && c.class.endsWith(m[2]) && !datasetPrefixes.has(m[1])) {
      datasetPrefixes.set(m[1], c.class.slice(0, c.class.length - m[2].length));
    }
  }
  editor.enablePrefixes();
  if (fromUrl()) run();
}).catch((err) => {
  $("status").className = "error";
  $("status").textContent = "cannot load the page data: " + err;
});
