// The endpoint's web page: dataset facts, a query editor with the named queries, results.
// Everything comes from this server (/api/info, /queries, /sparql); nothing is fetched
// from elsewhere, so the page works offline.
"use strict";

const WD = "http://www.wikidata.org/entity/";
const $ = (id) => document.getElementById(id);
let namedQueries = [];

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
  const info = await (await fetch("/api/info")).json();
  document.title = info.title + " — SPARQL endpoint";
  $("title").textContent = info.title;
  $("description").textContent = info.description;
  const dl = $("facts");
  fact(dl, "Triples", Number(info.triples).toLocaleString("en"));
  fact(dl, "Named graphs", info.graphs);
  fact(dl, "Wikidata items linked", info.wikidata_entities);
  fact(dl, "Sources", info.sources.map(asLink));
  fact(dl, "Licence", info.license ? asLink(info.license) : "");
  fact(dl, "Last build", info.modified || info.created);
  if (info.classes.length) {
    const ul = el("ul");
    for (const c of info.classes) ul.append(el("li", {}, shortIri(c.class) + ": " + c.count));
    $("classes").append(el("p", { class: "note" }, "Resources by type:"), ul);
  }
  const dumps = $("dumps");
  for (const d of info.dumps) {
    dumps.append(el("li", {}, link(d.url, d.name), ` (${formatBytes(d.bytes)}, ${d.type.split(";")[0]})`));
  }
  if (!info.dumps.length) dumps.append(el("li", {}, "no files to download"));
}

function shortIri(iri) {
  const cut = Math.max(iri.lastIndexOf("#"), iri.lastIndexOf("/"));
  return cut >= 0 && cut < iri.length - 1 ? iri.slice(cut + 1) : iri;
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

function cell(term) {
  const td = el("td");
  if (!term) return td;
  if (term.type === "uri") {
    if (term.value.startsWith(WD)) td.append(wikidataLink(term.value.slice(WD.length)));
    else if (/^https?:\/\//i.test(term.value)) td.append(link(term.value, term.value));
    else td.append(term.value);
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

$("run").addEventListener("click", run);
$("editor").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run();
});
Promise.all([loadInfo(), loadQueries()]).catch((err) => {
  $("status").className = "error";
  $("status").textContent = "cannot load the page data: " + err;
});
