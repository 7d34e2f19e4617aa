// The map of the page: every place with a point geometry (geo:hasGeometry/geo:asWKT) as a
// dot and every twinning between two such places as a great-circle arc, drawn in SVG from
// SPARQL queries against this server's /sparql, so it works for any data with coordinates.
// Base map and projection come from the vendored world-atlas, topojson-client and d3-geo
// (static/vendor/); nothing is fetched from elsewhere. No inline styles (CSP): classes only.
"use strict";

(() => {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const WIDTH = 960;
  const HEIGHT = 500;
  const PREFIXES = `PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX tw: <https://w3id.org/twinning-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <https://schema.org/>
PREFIX void: <http://rdfs.org/ns/void#>
PREFIX dcterms: <http://purl.org/dc/terms/>
`;
  // Places: features with a WKT point; a country only when it is itself twinned (countries
  // carry a point too, but as a dot they would only clutter the map).
  // Provinces, states and other administrative areas are drawn as rings, cities as dots.
  const PLACES_QUERY = PREFIXES + `SELECT ?place ?wkt ?label ?country ?countryLabel ?area WHERE {
  ?place geo:hasGeometry/geo:asWKT ?wkt .
  FILTER(NOT EXISTS { ?place a schema:Country } || EXISTS { ?tw tw:place ?place })
  BIND(EXISTS { ?place a schema:AdministrativeArea } AS ?area)
  OPTIONAL { ?place rdfs:label ?label }
  OPTIONAL { ?place tw:country ?country . OPTIONAL { ?country rdfs:label ?countryLabel } }
}`;
  // Twinnings whose two places both have a point: one arc each.
  const ARCS_QUERY = PREFIXES + `SELECT ?twinning ?a ?b (MIN(STR(?d)) AS ?date) (MIN(?dist) AS ?km) WHERE {
  ?twinning tw:place ?a , ?b .
  FILTER(STR(?a) < STR(?b))
  ?a geo:hasGeometry/geo:asWKT ?wa . ?b geo:hasGeometry/geo:asWKT ?wb .
  OPTIONAL { ?twinning tw:startDate ?d }
  OPTIONAL { ?twinning tw:distanceKm ?dist }
} GROUP BY ?twinning ?a ?b`;
  // Credits the data ask for: every dataset a drawn geometry is in (void:inDataset) with
  // its licence and attribution (the ODbL coordinates of provinces and states, kg.rdf.odbl).
  const creditsQuery = (geometries) => PREFIXES + `SELECT DISTINCT ?dataset ?license ?rights ?source WHERE {
  { SELECT DISTINCT ?dataset WHERE { ${geometries} ?g void:inDataset ?dataset } }
  ?dataset dcterms:license ?license .
  OPTIONAL { ?dataset dcterms:rights ?rights }
  OPTIONAL { ?dataset dcterms:source ?source }
} ORDER BY ?dataset`;
  const CREDITS_QUERY = creditsQuery("?g geo:asWKT ?w .");

  const $ = (id) => document.getElementById(id);
  // The page's language switch (app.js remembers the choice); names follow it.
  const langSelect = () => $("lang-select");
  const state = { places: new Map(), arcs: [], credits: [], selected: null, lang: "en" };
  let projection = null;
  let geoPath = null;

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    return node;
  }

  async function sparql(query) {
    const response = await fetch("/sparql", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded",
                 Accept: "application/sparql-results+json" },
      body: new URLSearchParams({ query }),
    });
    if (!response.ok) throw new Error(`SPARQL ${response.status}: ${await response.text()}`);
    return (await response.json()).results.bindings;
  }

  // "POINT(lon lat)", optionally after a CRS IRI; anything else (no point) gives null.
  function parsePoint(wkt) {
    const m = /^\s*(?:<[^>]*>\s*)?POINT\s*\(\s*(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s+(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*\)\s*$/i.exec(wkt);
    if (!m) return null;
    const lon = Number(m[1]);
    const lat = Number(m[2]);
    if (!(Math.abs(lon) <= 180 && Math.abs(lat) <= 90)) return null;
    return [lon, lat];
  }

  function addLabel(labels, term) {
    if (!term) return;
    const lang = (term["xml:lang"] || "").toLowerCase();
    if (!labels.has(lang)) labels.set(lang, []);
    const list = labels.get(lang);
    if (!list.includes(term.value)) list.push(term.value);
  }

  // The label in the chosen language: exact tag, then the same base language (zh-Hans
  // falls back to zh and zh-Hant), then English, then any; else the IRI's last segment.
  function pick(labels, iri) {
    const want = state.lang.toLowerCase();
    const base = want.split("-")[0];
    const order = [want, base];
    for (const lang of labels.keys()) if (lang.split("-")[0] === base) order.push(lang);
    order.push("en", "");
    for (const lang of order) {
      const list = labels.get(lang);
      if (list && list.length) return [...list].sort()[0];
    }
    for (const list of labels.values()) if (list.length) return [...list].sort()[0];
    return decodeURIComponent(iri.replace(/\/+$/, "").split(/[/#]/).pop() || iri);
  }

  const placeName = (p) => pick(p.labels, p.iri);
  const countryName = (c) => (c ? pick(c.labels, c.iri) : "");

  async function load() {
    const [placeRows, arcRows, creditRows] = await Promise.all(
      [sparql(PLACES_QUERY), sparql(ARCS_QUERY), sparql(CREDITS_QUERY)]);
    state.credits = creditRows;
    const countries = new Map();
    for (const row of placeRows) {
      const iri = row.place.value;
      let place = state.places.get(iri);
      if (!place) {
        const point = parsePoint(row.wkt.value);
        if (!point) continue;
        place = { iri, point, labels: new Map(), countries: new Set(), twinnings: [],
                  area: row.area !== undefined && row.area.value === "true" };
        state.places.set(iri, place);
      }
      addLabel(place.labels, row.label);
      if (row.country) {
        const ciri = row.country.value;
        if (!countries.has(ciri)) countries.set(ciri, { iri: ciri, labels: new Map() });
        addLabel(countries.get(ciri).labels, row.countryLabel);
        place.countries.add(ciri);
      }
    }
    state.countries = countries;
    for (const row of arcRows) {
      const a = state.places.get(row.a.value);
      const b = state.places.get(row.b.value);
      if (!a || !b) continue;
      const arc = { iri: row.twinning.value, a, b, date: row.date ? row.date.value : "",
                    km: row.km ? Number(row.km.value) : null };
      state.arcs.push(arc);
      a.twinnings.push(arc);
      b.twinnings.push(arc);
    }
  }

  function drawBase(root, world) {
    root.append(svg("path", { class: "map-sphere", d: geoPath({ type: "Sphere" }) }));
    root.append(svg("path", { class: "map-graticule", d: geoPath(d3.geoGraticule10()) }));
    const land = svg("g", { class: "map-countries" });
    for (const feature of topojson.feature(world, world.objects.countries).features) {
      const d = geoPath(feature);
      if (d) land.append(svg("path", { class: "map-country", d }));
    }
    root.append(land);
  }

  function drawData(root) {
    const arcs = svg("g", { class: "map-arcs" });
    for (const arc of state.arcs) {
      const d = geoPath({ type: "LineString", coordinates: [arc.a.point, arc.b.point] });
      arc.node = svg("path", { class: "map-arc", d: d || "", "data-twinning": arc.iri });
      arc.title = svg("title");
      arc.node.append(arc.title);
      arc.node.addEventListener("mouseenter", () => showArc(arc));
      arcs.append(arc.node);
    }
    const dots = svg("g", { class: "map-places" });
    // Areas (rings) first, so the dots of the cities inside them stay on top.
    const ordered = [...state.places.values()].sort((p, q) => Number(q.area) - Number(p.area));
    for (const place of ordered) {
      const [x, y] = projection(place.point);
      place.node = svg("circle", { class: place.area ? "map-place area" : "map-place",
                                   cx: x.toFixed(1), cy: y.toFixed(1),
                                   r: place.area ? "4" : "3", "data-place": place.iri,
                                   tabindex: "0" });
      place.title = svg("title");
      place.node.append(place.title);
      place.node.addEventListener("mouseenter", () => showPlace(place));
      place.node.addEventListener("click", () => select(place));
      place.node.addEventListener("keydown", (e) => { if (e.key === "Enter") select(place); });
      dots.append(place.node);
    }
    root.append(arcs, dots);
  }

  // One line per credited dataset, under the map: its attribution text (or IRI), linked to
  // its source, and its licence. Text nodes and attributes only: nothing is parsed as HTML.
  function credits(rows) {
    const box = document.createElement("p");
    box.className = "note map-credits";
    box.append("Coordinates of some places: ");
    rows.forEach((row, i) => {
      if (i) box.append("; ");
      const text = row.rights ? row.rights.value : row.dataset.value;
      const safe = (term) => term && /^https?:\/\//.test(term.value);
      if (safe(row.source)) {
        const link = document.createElement("a");
        link.href = row.source.value;
        link.textContent = text;
        box.append(link);
      } else {
        box.append(text);
      }
      if (safe(row.license)) {
        const licence = document.createElement("a");
        licence.href = row.license.value;
        licence.rel = "license";
        licence.textContent = "licence";
        box.append(" (", licence, ")");
      }
    });
    return box;
  }

  function drawCredits(figure) {
    const old = $("map-credits");
    if (old) old.remove();
    if (!state.credits.length) return;
    const box = credits(state.credits);
    box.id = "map-credits";
    figure.after(box);
  }

  function decadeOf(date) {
    const year = /^-?\d{4}/.exec(date);
    return year ? String(Math.floor(Number(year[0]) / 10) * 10) : "";
  }

  function arcText(arc) {
    const parts = [`${placeName(arc.a)} – ${placeName(arc.b)}`];
    if (arc.date) parts.push(`since ${arc.date}`);
    if (arc.km !== null) parts.push(`${arc.km.toLocaleString("en")} km`);
    return parts.join(", ");
  }

  function placeText(place) {
    const country = [...place.countries].map((c) => countryName(state.countries.get(c)))
      .filter(Boolean).join(", ");
    const n = place.twinnings.length;
    return `${placeName(place)}${country ? ` (${country})` : ""}: ${n} twinning${n === 1 ? "" : "s"}`;
  }

  function showPlace(place) { $("map-info").textContent = placeText(place); }
  function showArc(arc) { $("map-info").textContent = arcText(arc); }

  // What the filters let through: a twinning matches when one of its places lies in the
  // chosen country and its start date in the chosen decade; the places drawn are those of
  // the matching twinnings, plus (country filter only) the country's other places.
  function apply() {
    const country = $("map-country").value;
    const decade = $("map-decade").value;
    const inCountry = (p) => !country || p.countries.has(country);
    const visiblePlaces = new Set();
    let arcsShown = 0;
    for (const arc of state.arcs) {
      const okDecade = !decade || (decade === "none" ? !arc.date : decadeOf(arc.date) === decade);
      const show = okDecade && (inCountry(arc.a) || inCountry(arc.b));
      arc.node.classList.toggle("hidden", !show);
      if (show) {
        arcsShown += 1;
        visiblePlaces.add(arc.a);
        visiblePlaces.add(arc.b);
      }
    }
    let placesShown = 0;
    for (const place of state.places.values()) {
      const show = (!country && !decade) || visiblePlaces.has(place) ||
        (!decade && inCountry(place));
      place.node.classList.toggle("hidden", !show);
      if (show) placesShown += 1;
    }
    $("map-counts").textContent = `${placesShown} places, ${arcsShown} twinnings shown`;
    $("map-figure").dataset.places = String(placesShown);
    $("map-figure").dataset.arcs = String(arcsShown);
  }

  function relabel() {
    for (const place of state.places.values()) place.title.textContent = placeText(place);
    for (const arc of state.arcs) arc.title.textContent = arcText(arc);
    fillCountries();
    if (state.selected) select(state.selected);
  }

  function option(value, text) {
    const node = document.createElement("option");
    node.value = value;
    node.textContent = text;
    return node;
  }

  function fillCountries() {
    const selectNode = $("map-country");
    const current = selectNode.value;
    const used = new Set();
    for (const place of state.places.values()) for (const c of place.countries) used.add(c);
    const items = [...used].map((iri) => [iri, countryName(state.countries.get(iri))])
      .sort((x, y) => x[1].localeCompare(y[1], state.lang));
    selectNode.replaceChildren(option("", "all countries"),
      ...items.map(([iri, name]) => option(iri, name)));
    selectNode.value = current;
  }

  function fillDecades() {
    const decades = new Set(state.arcs.map((a) => decadeOf(a.date)).filter(Boolean));
    const sorted = [...decades].sort((x, y) => Number(x) - Number(y));
    const undated = state.arcs.some((a) => !a.date);
    $("map-decade").replaceChildren(option("", "all decades"),
      ...sorted.map((d) => option(d, `${d}s`)),
      ...(undated ? [option("none", "no date")] : []));
  }

  // A click on a place: it and its twins highlighted, its arcs emphasised, its twins listed.
  function select(place) {
    for (const p of state.places.values()) p.node.classList.remove("selected", "twin");
    for (const arc of state.arcs) arc.node.classList.remove("active");
    const list = $("map-twins");
    list.replaceChildren();
    state.selected = place;
    if (!place) {
      $("map-selection").hidden = true;
      return;
    }
    place.node.classList.add("selected");
    const rows = [];
    for (const arc of place.twinnings) {
      const twin = arc.a === place ? arc.b : arc.a;
      arc.node.classList.add("active");
      arc.node.parentNode.append(arc.node);  // drawn last: above the other arcs
      twin.node.classList.add("twin");
      rows.push([placeName(twin), arc, twin]);
    }
    rows.sort((x, y) => x[0].localeCompare(y[0], state.lang));
    for (const [name, arc, twin] of rows) {
      const item = document.createElement("li");
      item.dataset.place = twin.iri;
      const extra = [arc.date && `since ${arc.date}`,
                     arc.km !== null && `${arc.km.toLocaleString("en")} km`].filter(Boolean);
      item.textContent = name + (extra.length ? ` (${extra.join(", ")})` : "");
      list.append(item);
    }
    $("map-selected-name").textContent = placeText(place);
    $("map-selection").hidden = false;
  }

  async function init() {
    const figure = $("map-figure");
    if (!figure || typeof d3 === "undefined" || typeof topojson === "undefined") return;
    state.lang = langSelect() ? langSelect().value : document.documentElement.lang || "en";
    try {
      const [world] = await Promise.all([
        fetch("/static/vendor/countries-110m.json").then((r) => r.json()),
        load(),
      ]);
      projection = d3.geoNaturalEarth1().fitExtent([[4, 4], [WIDTH - 4, HEIGHT - 4]],
                                                   { type: "Sphere" });
      geoPath = d3.geoPath(projection);
      const root = svg("svg", { id: "map-svg", viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
                                role: "img", "aria-labelledby": "map-h" });
      drawBase(root, world);
      drawData(root);
      figure.replaceChildren(root);
      drawCredits(figure);
      fillCountries();
      fillDecades();
      relabel();
      apply();
      figure.dataset.ready = "true";
    } catch (error) {
      $("map-info").textContent = `The map could not be drawn: ${error.message}`;
      figure.dataset.ready = "error";
      return;
    }
    $("map-country").addEventListener("change", apply);
    $("map-decade").addEventListener("change", apply);
    if (langSelect()) {
      langSelect().addEventListener("change", () => { state.lang = langSelect().value; relabel(); });
    }
    $("map-clear").addEventListener("click", () => select(null));
  }

  // -- A small map of one place and its twins (for place pages) ------------------------------
  // Separate from the page's map: kgPlaceMap(container, placeIri) draws into container; an
  // element <div data-kg-place-map="IRI"></div> on any page that loads the vendored scripts
  // and this file is drawn on load. The IRI goes into the query only if it has no character
  // that could leave an IRI reference.
  const IRI_SAFE = /^https?:[^\s<>"{}|^`\\]+$/;

  async function kgPlaceMap(container, placeIri) {
    if (!IRI_SAFE.test(placeIri) || typeof d3 === "undefined") return;
    if (!langSelect()) state.lang = document.documentElement.lang || "en";
    const query = PREFIXES + `SELECT ?wkt ?twin ?twinWkt ?label ?date WHERE {
  <${placeIri}> geo:hasGeometry/geo:asWKT ?wkt .
  OPTIONAL {
    ?t tw:place <${placeIri}> , ?twin . FILTER(?twin != <${placeIri}>)
    ?twin geo:hasGeometry/geo:asWKT ?twinWkt .
    OPTIONAL { ?twin rdfs:label ?label }
    OPTIONAL { ?t tw:startDate ?date }
  }
}`;
    const used = `{ <${placeIri}> geo:hasGeometry ?g } UNION
    { ?t tw:place <${placeIri}> , ?twin . ?twin geo:hasGeometry ?g }`;
    const [world, rows, creditRows] = await Promise.all([
      fetch("/static/vendor/countries-110m.json").then((r) => r.json()), sparql(query),
      sparql(creditsQuery(used))]);
    if (!rows.length) return;
    const home = parsePoint(rows[0].wkt.value);
    if (!home) return;
    const twins = new Map();
    for (const row of rows) {
      if (!row.twin) continue;
      const point = parsePoint(row.twinWkt.value);
      if (!point) continue;
      if (!twins.has(row.twin.value)) {
        twins.set(row.twin.value, { iri: row.twin.value, point, labels: new Map(), dates: new Set() });
      }
      const twin = twins.get(row.twin.value);
      addLabel(twin.labels, row.label);
      if (row.date) twin.dates.add(row.date.value);
    }
    const width = 480;
    const height = 250;
    const proj = d3.geoNaturalEarth1().fitExtent([[2, 2], [width - 2, height - 2]], { type: "Sphere" });
    const path = d3.geoPath(proj);
    const root = svg("svg", { class: "map-small", viewBox: `0 0 ${width} ${height}`, role: "img" });
    root.append(svg("path", { class: "map-sphere", d: path({ type: "Sphere" }) }));
    for (const feature of topojson.feature(world, world.objects.countries).features) {
      const d = path(feature);
      if (d) root.append(svg("path", { class: "map-country", d }));
    }
    for (const twin of twins.values()) {
      const line = path({ type: "LineString", coordinates: [home, twin.point] });
      root.append(svg("path", { class: "map-arc active", d: line || "", "data-twin": twin.iri }));
    }
    for (const twin of twins.values()) {
      const [x, y] = proj(twin.point);
      const dot = svg("circle", { class: "map-place twin", cx: x.toFixed(1), cy: y.toFixed(1),
                                  r: "2.5", "data-place": twin.iri });
      const title = svg("title");
      const dates = [...twin.dates].sort().join(", ");
      title.textContent = pick(twin.labels, twin.iri) + (dates ? ` (since ${dates})` : "");
      dot.append(title);
      root.append(dot);
    }
    const [hx, hy] = proj(home);
    root.append(svg("circle", { class: "map-place selected", cx: hx.toFixed(1), cy: hy.toFixed(1),
                                r: "3.5", "data-place": placeIri }));
    container.replaceChildren(root);
    if (creditRows.length) container.append(credits(creditRows));
    container.dataset.twins = String(twins.size);
  }

  window.kgPlaceMap = kgPlaceMap;

  function initPlaceMaps() {
    for (const node of document.querySelectorAll("[data-kg-place-map]")) {
      kgPlaceMap(node, node.getAttribute("data-kg-place-map")).catch((error) => {
        node.textContent = `The map could not be drawn: ${error.message}`;
      });
    }
  }

  function start() {
    init();
    initPlaceMaps();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
