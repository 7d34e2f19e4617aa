"""What the server serves besides query answers: the dataset (:class:`Site`), what the web
page says about it (:func:`dataset_info`), its VoID description and the SPARQL Service
Description; :func:`open_site` prepares all of it for :func:`kg.serve.app.make_server`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import KGError, ServeError
from kg.rdf.vocab import DCAT, DCTERMS, PREFIXES, PROV, RDF, RDFS, VOID, WD, XSD
from kg.serve import descriptions
from kg.serve.engine import Engine
from kg.serve.limits import DEFAULTS, Limits
from kg.serve.results import serialize_graph

__all__ = [
    "DEFAULT_MAX_BODY",
    "Site",
    "build_void",
    "dataset_info",
    "open_site",
    "service_description",
]

#: Largest request body accepted (bytes); larger ones get 413.
DEFAULT_MAX_BODY = DEFAULTS.max_body
_WIKIDATA = str(WD)
_VOID = str(VOID)
_TYPE = ox.NamedNode(str(RDF.type))
_INTEGER = ox.NamedNode(str(XSD.integer))
_SPARQL_PREFIXES = "".join(f"PREFIX {prefix}: <{ns}>\n" for prefix, ns in PREFIXES)


@dataclass
class Site:
    """Everything the server serves: the query engine, the dumps, VoID, the page data."""

    engine: Engine
    dumps: dict[str, Path] = field(default_factory=dict)
    void: bytes | None = None  # a Turtle document, or None to generate one
    queries_dir: Path | None = None
    max_body: int = DEFAULT_MAX_BODY
    info: dict[str, Any] = field(default_factory=dict)

    def void_turtle(self, base: str) -> bytes:
        """The VoID description for a server at ``base`` (its public URL): the given one
        with its SPARQL endpoint and dump IRIs replaced by those this server answers at,
        or one generated. Nothing is cached here: the server makes it once."""
        if self.void is not None:
            return _rebased_void(self.void, base, set(self.dumps))
        return serialize_graph(_void_triples(self, base), "text/turtle")


_DOWNLOAD_PREDICATES = (str(VOID.dataDump), str(DCAT.downloadURL))


def _rebased_void(void: bytes, base: str, served: set[str]) -> bytes:
    """``void`` (Turtle) announcing this server: every IRI that is a ``void:sparqlEndpoint``
    becomes ``BASE/sparql`` wherever it occurs; a ``void:dataDump`` or ``dcat:downloadURL``
    becomes ``BASE/dumps/NAME`` when NAME (its last path segment) is served, and is dropped
    when it is not. Without any endpoint, the top datasets get one."""
    parser = ox.parse(void, format=ox.RdfFormat.TURTLE)
    triples = [q.triple for q in parser]
    endpoint_p = ox.NamedNode(_VOID + "sparqlEndpoint")
    endpoint = ox.NamedNode(base + "/sparql")
    old_endpoints = {t.object for t in triples if t.predicate == endpoint_p}

    def swap(term: Any) -> Any:
        return endpoint if term in old_endpoints else term

    out: list[ox.Triple] = []
    for t in triples:
        obj = t.object
        if t.predicate.value in _DOWNLOAD_PREDICATES and isinstance(obj, ox.NamedNode):
            name = obj.value.rstrip("/").rsplit("/", 1)[-1]
            if name not in served:
                continue
            obj = ox.NamedNode(f"{base}/dumps/{name}")
        out.append(ox.Triple(swap(t.subject), t.predicate, swap(obj)))
    if not old_endpoints:
        subsets = {t.object for t in triples if t.predicate.value == _VOID + "subset"}
        for t in triples:
            if (t.predicate == _TYPE and t.object.value == _VOID + "Dataset"
                    and t.subject not in subsets):
                out.append(ox.Triple(t.subject, endpoint_p, endpoint))
    return ox.serialize(list(dict.fromkeys(out)), format=ox.RdfFormat.TURTLE,
                        prefixes=parser.prefixes) or b""


def _void_triples(site: Site, base: str) -> list[ox.Triple]:
    dataset = ox.NamedNode(base + "/.well-known/void#dataset")
    out = [
        ox.Triple(dataset, _TYPE, ox.NamedNode(_VOID + "Dataset")),
        ox.Triple(dataset, ox.NamedNode(_VOID + "sparqlEndpoint"), ox.NamedNode(base + "/sparql")),
        ox.Triple(dataset, ox.NamedNode(_VOID + "triples"),
                  ox.Literal(str(site.engine.triples), datatype=_INTEGER)),
    ]
    for name in sorted(site.dumps):
        out.append(ox.Triple(dataset, ox.NamedNode(_VOID + "dataDump"),
                             ox.NamedNode(f"{base}/dumps/{name}")))
    return out


def _values(store: ox.Store, query: str, **kwargs: Any) -> list[dict[str, str]]:
    rows = []
    result: Any = store.query(query, **kwargs)
    for solution in result:
        rows.append({v.value: solution[v].value for v in result.variables
                     if solution[v] is not None})
    return rows


def dataset_info(store: ox.Store, void: bytes | None, *, title: str,
                 built: str = "") -> dict[str, Any]:
    """What the web page says about the data, from the VoID description (when there is
    one) and the store: title and description in every language the VoID gives
    (``titles``, ``descriptions``; ``title``/``description`` the English or untagged
    ones), licence, the sources of the dataset and of its subsets (``sources``, IRIs, and
    ``source_details`` with their titles and files from the store), ``modified``/``created``
    from the VoID, ``built`` (given: the build's file time) for a VoID without dates,
    ``uri_space`` (the base of the data IRIs), counts, and the classes with their prefixed
    names and labels."""
    info: dict[str, Any] = {"title": title, "description": "", "license": "", "sources": [],
                            "modified": "", "created": "", "built": built, "classes": [],
                            "titles": {}, "descriptions": {}, "source_details": [],
                            "uri_space": descriptions.uri_space(void)}
    if void is not None:
        meta = ox.Store()
        meta.load(void, format=ox.RdfFormat.TURTLE)
        # The main dataset: no other's subset, the most triples (not the Wikidata target).
        rows = _values(meta, _SPARQL_PREFIXES + """
            SELECT ?p ?o ?lang WHERE {
              { SELECT ?d WHERE { ?d a void:Dataset . FILTER NOT EXISTS { ?x void:subset ?d }
                                  OPTIONAL { ?d void:triples ?t } }
                ORDER BY DESC(COALESCE(?t, -1)) ?d LIMIT 1 }
              { ?d ?p ?o } UNION {
                ?d void:subset+ ?sub . ?sub ?p ?o
                FILTER(?p IN (dcterms:source, prov:wasDerivedFrom)) }
              BIND(LANG(?o) AS ?lang)
            }""")
        names = {str(DCTERMS.title): "title", str(DCTERMS.description): "description",
                 str(DCTERMS.license): "license", str(DCTERMS.modified): "modified",
                 str(DCTERMS.created): "created", str(DCTERMS.issued): "created"}
        sources: set[str] = set()
        for row in rows:
            key = names.get(row["p"])
            lang = row.get("lang", "")
            if key in ("title", "description"):
                info[key + "s"].setdefault(lang, row["o"])
            elif key:
                info[key] = row["o"]
            elif row["p"] in (str(DCTERMS.source), str(PROV.wasDerivedFrom)):
                sources.add(row["o"])
        info["sources"] = sorted(sources)
    if not info["titles"]:
        # Data that describes itself (a void:Dataset or dcat:Dataset in the served graph).
        for row in _values(store, _SPARQL_PREFIXES + """
                SELECT ?p ?o (LANG(?o) AS ?lang) WHERE {
                  { ?d a void:Dataset } UNION { ?d a dcat:Dataset }
                  FILTER NOT EXISTS { ?x void:subset ?d }
                  VALUES ?p { dcterms:title dcterms:description }
                  ?d ?p ?o FILTER(isLiteral(?o)) } ORDER BY ?d ?lang ?o"""):
            key = "titles" if row["p"] == str(DCTERMS.title) else "descriptions"
            info[key].setdefault(row.get("lang", ""), row["o"])
    for key in ("title", "description"):
        chosen = info[key + "s"].get("en") or info[key + "s"].get("")
        if chosen:
            info[key] = chosen
        elif info[key + "s"]:
            info[key] = next(iter(sorted(info[key + "s"].items())))[1]
    info["source_details"] = [_source_detail(store, iri, info["uri_space"])
                              for iri in info["sources"]]
    info["triples"] = len(store)
    info["graphs"] = sum(1 for _ in store.named_graphs())
    counted = _values(store, f"""SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {{
        ?s ?p ?o FILTER(isIRI(?o) && STRSTARTS(STR(?o), "{_WIKIDATA}Q")) }}""",
                      )
    info["wikidata_entities"] = int(counted[0]["n"]) if counted else 0
    info["classes"] = [
        {"class": row["c"], "count": int(row["n"]), "curie": descriptions.curie(row["c"]),
         "labels": descriptions.term_labels(row["c"], store)}
        for row in _values(store, """SELECT ?c (COUNT(DISTINCT ?s) AS ?n)
            WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n) ?c LIMIT 12""")
    ]
    return info


def _source_detail(store: ox.Store, iri: str, base: str) -> dict[str, Any]:
    # A source's titles and file name from the graph; its local page if it is ours.
    titles: dict[str, str] = {}
    files: list[str] = []
    if iri.startswith(("http://", "https://")):
        node = ox.NamedNode(iri)
        for quad in store.quads_for_pattern(node, None, None, None):
            obj = quad.object
            if not isinstance(obj, ox.Literal):
                continue
            if quad.predicate.value == str(DCTERMS.title):
                titles.setdefault(obj.language or "", obj.value)
            elif quad.predicate.value == str(DCTERMS.identifier):
                files.append(obj.value)
    href = "/" + iri[len(base):] if iri.startswith(base) else iri
    return {"iri": iri, "href": href, "titles": titles, "file": min(files, default="")}


def build_void(files: Sequence[Path]) -> Path | None:
    """The ``void.ttl`` that ``kg build`` wrote beside ``files``, when every one of them
    is a file of that one build, as its manifest lists it (same name and size); else None.
    So ``kg serve dist/twinning.trig`` shows the dataset's own title, licence and IRI base
    (never the file's name) as ``kg serve --dist dist`` does. Never raises."""
    from kg.manifest import read_manifest

    folders = {p.resolve().parent for p in files}
    if len(folders) != 1:
        return None
    folder = folders.pop()
    try:
        manifest = read_manifest(folder)
    except (OSError, ValueError, KGError):
        return None
    void = folder / "void.ttl"
    if manifest is None or "void.ttl" not in manifest.files:
        return None
    for path in [*files, void]:
        listed = manifest.files.get(path.name)
        try:
            if listed is None or path.resolve().stat().st_size != listed.size:
                return None
        except OSError:
            return None
    return void


def open_site(files: Sequence[Path], *, store_location: Path | None = None,
              void: Path | None = None, dumps: Sequence[Path] = (),
              queries_dir: Path | None = None, title: str = "RDF data",
              limits: Limits = DEFAULTS) -> Site:
    """Load ``files`` into memory (:func:`kg.store.load_memory`), or, with
    ``store_location``, into an on-disk store there (:func:`kg.store.prepare_store`:
    reused when it was made from the same files), start the query workers
    (:class:`~kg.serve.engine.Engine`; ``limits`` are :class:`~kg.serve.limits.Limits`)
    and prepare what the server serves.

    Raises :class:`~kg.errors.StoreError` for bad data or a store folder that is not
    ours to write, and :class:`ServeError` for an unreadable VoID file or workers that
    cannot start.
    """
    from kg.store import load_memory, prepare_store

    void = void if void is not None else build_void(files)
    void_bytes = None
    if void is not None:
        try:
            void_bytes = void.read_bytes()
        except OSError as exc:
            raise ServeError(f"cannot read the VoID description: {exc}", path=void) from exc
    served = None
    if store_location is None:
        store, triples = load_memory(files)
    else:
        served = prepare_store(files, store_location)
        store, triples = ox.Store.read_only(str(served.path)), served.triples
    built = max((p.stat().st_mtime for p in [*files, *([void] if void else [])]
                 if p.is_file()), default=None)
    # Before the workers are forked: these queries scan the store, and a scan writes
    # reference counts all over it. Made after the fork, it copied most of the store into
    # the server process (780 of 960 MiB at 10^5 twinnings); made before, those pages stay
    # shared with the workers.
    try:
        info = dataset_info(store, void_bytes, title=title,
                            built="" if built is None else _iso_time(built))
    except SyntaxError as exc:
        if served is not None:
            served.remove()
        raise ServeError(f"bad VoID description: {exc}", path=void) from exc
    info["triples"] = triples
    try:
        engine = Engine(store, triples, limits, served=served)
    except OSError as exc:
        if served is not None:
            served.remove()
        raise ServeError(f"cannot start the query workers: {exc}") from exc
    site = Site(engine, dumps={p.name: p for p in dumps}, void=void_bytes,
                queries_dir=queries_dir, max_body=limits.max_body)
    site.info = info
    return site


def _iso_time(seconds: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: The SPARQL 1.1 Service Description vocabulary (not in kg.rdf.vocab).
_SD = descriptions.PREFIX_MAP["sd"]


def service_description(endpoint: str, *, union_default_graph: bool, triples: int,
                        void: str | None = None) -> list[ox.Triple]:
    """The SPARQL 1.1 Service Description of the endpoint at ``endpoint`` (an absolute
    URL), with its result formats, its default-graph feature and its size."""
    sd = _SD
    fmt = "http://www.w3.org/ns/formats/"
    rdf_type = _TYPE
    service = ox.NamedNode(endpoint + "#service")
    dataset = ox.NamedNode(endpoint + "#dataset")
    graph = ox.BlankNode("defaultGraph")
    out = [
        ox.Triple(service, rdf_type, ox.NamedNode(sd + "Service")),
        ox.Triple(service, ox.NamedNode(sd + "endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, ox.NamedNode(sd + "supportedLanguage"),
                  ox.NamedNode(sd + "SPARQL11Query")),
        ox.Triple(service, ox.NamedNode(sd + "defaultDataset"), dataset),
        ox.Triple(dataset, rdf_type, ox.NamedNode(sd + "Dataset")),
        ox.Triple(dataset, ox.NamedNode(sd + "defaultGraph"), graph),
        ox.Triple(graph, rdf_type, ox.NamedNode(sd + "Graph")),
        ox.Triple(graph, ox.NamedNode(_VOID + "triples"),
                  ox.Literal(str(triples), datatype=_INTEGER)),
    ]
    if union_default_graph:
        out.append(ox.Triple(service, ox.NamedNode(sd + "feature"),
                             ox.NamedNode(sd + "UnionDefaultGraph")))
    if void:
        out.append(ox.Triple(dataset, ox.NamedNode(str(RDFS.seeAlso)), ox.NamedNode(void)))
    for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                 "SPARQL_Results_TSV", "Turtle", "N-Triples", "JSON-LD", "RDF_XML"):
        out.append(ox.Triple(service, ox.NamedNode(sd + "resultFormat"),
                             ox.NamedNode(fmt + name)))
    return out
