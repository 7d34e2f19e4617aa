// The endpoint's web page: dataset facts, a query editor with the named queries, results.
// Everything comes from this server (/api/info, /queries, /sparql); nothing is fetched
// from elsewhere, so the page works offline.
"use strict";

const WD = "http://www.wikidata.org/entity/";
const LANGUAGES = ["en", "ja", "zh-Hant", "zh-Hans"];
const $ = (id) => document.getElementById(id);
let namedQueries = [];
let info = null;
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
  showInfo();
}

async function loadQueries() {
  namedQueries = await (await fetch("/queries")).json();
  const select = $("query-select");
  for (const q of namedQueries) select.append(el("option", { value: q.name }, q.title));
  select.addEventListener("change", () => pick(select.value));
}

function selected() {
  return namedQueries.find((q) => q.name === $("query-select").value);
}

function pick(name) {
  const q = namedQueries.find((x) => x.name === name);
  const params = $("params");
  params.replaceChildren();
  $("query-description").textContent = q ? q.description : "";
  if (!q) return;
  $("editor").value = q.text;
  for (const p of q.params) {
    const input = el("input", { name: p.name, placeholder: p.types.join(" | "),
                                "data-param": p.name });
    input.value = p.default || "";
    params.append(el("label", { title: p.description }, `${p.name}${p.required ? " *" : ""}`, input));
  }
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

function cell(term) {
  const td = el("td");
  if (!term) return td;
  if (term.type === "uri") {
    const local = localHref(term.value);
    if (term.value.startsWith(WD)) {
      td.append(wikidataLink(term.value.slice(WD.length)));
    } else if (local) {
      td.append(link(local, term.value));
      const qid = /^place\/(Q[1-9][0-9]*)$/.exec(term.value.slice(uriSpace.length));
      if (qid) td.append(" ", el("a", { class: "wd", href: "https://www.wikidata.org/wiki/" + qid[1],
                                         rel: "noopener" }, "wd:" + qid[1]));
    } else if (/^https?:\/\//i.test(term.value)) {
      td.append(link(term.value, term.value));
    } else {
      td.append(term.value);  // urn:, mailto:, javascript:… are shown, never followed
    }
  } else if (term.type === "bnode") {
    td.append("_:" + term.value);
  } else if (term.type === "literal") {
    if (/^Q[1-9][0-9]*$/.test(term.value)) td.append(wikidataLink(term.value));
    else td.append(term.value);
    if (term["xml:lang"]) td.append(el("span", { class: "lang" }, "@" + term["xml:lang"]));
  } else {
    td.append(JSON.stringify(term.value));
  }
  return td;
}

function showTable(data) {
  const table = $("results");
  const head = el("tr");
  const vars = data.head.vars || [];
  for (const v of vars) head.append(el("th", { scope: "col" }, v));
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const b of data.results.bindings) {
    const tr = el("tr");
    for (const v of vars) tr.append(cell(b[v]));
    body.append(tr);
  }
  table.tHead.replaceChildren(head);
  table.hidden = false;
  return data.results.bindings.length;
}

async function run() {
  const button = $("run");
  const status = $("status");
  const text = $("editor").value;
  const q = selected();
  $("results").hidden = true;
  $("graph-output").hidden = true;
  $("truncated").hidden = true;
  status.className = "";
  status.textContent = "running…";
  button.disabled = true;
  const accept = "application/sparql-results+json, text/turtle;q=0.9";
  const started = performance.now();
  try {
    let response;
    if (q && text === q.text) {
      // The named query as published: run it by name, with its parameters.
      const params = new URLSearchParams();
      for (const input of document.querySelectorAll("#params input")) {
        if (input.value !== "") params.append(input.dataset.param, input.value);
      }
      response = await fetch(`/queries/${encodeURIComponent(q.name)}?${params}`,
                             { headers: { Accept: accept } });
    } else {
      response = await fetch("/sparql", {
        method: "POST", headers: { Accept: accept },
        body: new URLSearchParams({ query: text }),
      });
    }
    const ms = Math.round(performance.now() - started);
    if (!response.ok) {
      status.className = "error";
      status.textContent = `HTTP ${response.status}: ${(await response.text()).trim()}`;
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("json")) {
      const data = await response.json();
      if ("boolean" in data) {
        status.textContent = `answer: ${data.boolean} (${ms} ms)`;
      } else {
        const n = showTable(data);
        status.textContent = `${n} row${n === 1 ? "" : "s"} (${ms} ms)`;
      }
      if (data.truncated) {
        $("truncated").textContent = data.truncated.message;
        $("truncated").hidden = false;
      }
    } else {
      const pre = $("graph-output");
      pre.textContent = await response.text();
      pre.hidden = false;
      status.textContent = `graph (${ms} ms)`;
    }
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

$("lang-select").value = lang;
$("lang-select").addEventListener("change", (e) => setLanguage(e.target.value));
$("run").addEventListener("click", run);
$("editor").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run();
});
Promise.all([loadInfo(), loadQueries()]).catch((err) => {
  $("status").className = "error";
  $("status").textContent = "cannot load the page data: " + err;
});
