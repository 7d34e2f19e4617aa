"""The ODbL geometry dataset: dr5hn coordinates as a named graph, dump and VoID entry of their own.

The graph ``kg build`` makes from the links table is CC BY-SA 4.0 (it restates
zh.wikipedia). Coordinates from the dr5hn Countries States Cities Database are ODbL 1.0,
another share-alike licence whose terms CC BY-SA 4.0 does not accept (nor the converse), so
the two must not be merged into one database. They are kept apart here:

- the ODbL table (:mod:`kg.reconcile.odbl_coordinates`) becomes the named graph
  ``<base>graph/geo-odbl``: for each resolved place the CC BY-SA graph gives no geometry,
  ``<place> geo:hasGeometry <place#geometry>``, the geometry's ``geo:asWKT`` point (as
  :mod:`kg.rdf.geo` writes it), ``void:inDataset`` this dataset, ``dcterms:license``
  ODbL 1.0, ``prov:wasDerivedFrom`` the dr5hn repository, its ``file:line`` evidence as
  ``rdfs:comment``; and the ``tw:distanceKm`` of every twinning whose distance needs one
  of these points (a figure derived from ODbL data is ODbL data);
- the dataset node ``<base>dataset/geo-odbl`` carries its licence and the attribution the
  source asks for, in the graph (so a description of a geometry can show it) and in VoID
  (:func:`add_odbl_void`: a dataset and a linkset of its own, not a subset of the CC BY-SA
  dataset);
- the files are ``twinning-geo-odbl.<fmt>`` beside ``twinning.<fmt>``, which stay free of
  it; ``kg serve`` loads both, so the map shows the provinces and credits the source.

Serving both from one endpoint makes a collection of two independent databases (a
"Collective Database" in ODbL's terms), each under its own licence, which both allow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from rdflib import Graph, Literal, URIRef

from kg.rdf.geo import (
    ASWKT,
    DISTANCE_KM,
    GEOMETRY,
    HAS_GEOMETRY,
    WKT_LITERAL,
    XSD_DECIMAL,
    distance_km,
    geometry_iri,
    parse_wkt_point,
    wkt_point,
)
from kg.rdf.quads import Quads, Term, iri, literal
from kg.rdf.serialize import FORMATS, serialize_dataset
from kg.rdf.vocab import DCAT, DCTERMS, PROV, RDF, RDFS, TW, VOID, XSD, Iris
from kg.reconcile.odbl_coordinates import OdblCoordinate

__all__ = [
    "ODBL_ATTRIBUTION",
    "ODBL_LICENSE",
    "ODBL_SOURCE",
    "ODBL_STEM",
    "add_odbl_void",
    "graph_files",
    "odbl_dataset_iri",
    "odbl_dumps",
    "odbl_file_names",
    "odbl_graph_iri",
    "odbl_quads",
    "with_odbl",
]

#: The licence of the dr5hn data and of everything made from it here.
ODBL_LICENSE = "https://opendatacommons.org/licenses/odbl/1-0/"
#: The source database.
ODBL_SOURCE = "https://github.com/dr5hn/countries-states-cities-database"
#: The credit the source asks for (gazetteer README), word for word.
ODBL_ATTRIBUTION = ("Data by Countries States Cities Database — "
                    "https://github.com/dr5hn/countries-states-cities-database | ODbL v1.0")
#: File name stem of the dumps: ``twinning-geo-odbl.nt`` and so on.
ODBL_STEM = "twinning-geo-odbl"

_RDF_TYPE = str(RDF.type)
_PLACE_PRED = f"<{TW.place}>".encode()
_TYPE_PRED = f"<{RDF.type}>".encode()
_TWINNING = f"<{TW.Twinning}>".encode()
_WKT_PRED = f"<{ASWKT}>".encode()
_DIST_PRED = f"<{DISTANCE_KM}>".encode()
_GEOM_PRED = f"<{HAS_GEOMETRY}>".encode()


def odbl_graph_iri(base: str) -> str:
    """The named graph of the ODbL data: ``<base>graph/geo-odbl``."""
    return str(Iris(base).graph("geo-odbl"))


def odbl_dataset_iri(base: str) -> str:
    """The ODbL dataset: ``<base>dataset/geo-odbl``."""
    return str(Iris(base).dataset("geo-odbl"))


def odbl_file_names(formats: Sequence[str]) -> dict[str, str]:
    """Format name -> dump file name (``nt`` -> ``twinning-geo-odbl.nt``)."""
    return {fmt: f"{ODBL_STEM}.{fmt}" for fmt in formats}


def graph_files(dist: Path) -> list[Path]:
    """The files of the built folder ``dist`` that make the whole graph, as ``kg serve`` and
    ``kg query`` load them: ``twinning.trig`` and, when built, ``twinning-geo-odbl.trig``
    (each keeps its named graphs)."""
    odbl = dist / f"{ODBL_STEM}.trig"
    return [dist / "twinning.trig", *([odbl] if odbl.is_file() else [])]


def _split(line: bytes) -> tuple[bytes, bytes, bytes]:
    # <s> <p> o .   (subjects and predicates are IRIs: no space inside)
    subject, predicate, rest = line.split(b" ", 2)
    return subject, predicate, rest[:-2]


def _wkt(obj: bytes) -> str:
    # "POINT(lon lat)"^^<…wktLiteral>: the lexical form has no quote or backslash.
    return obj[1:obj.index(b'"', 1)].decode()


def odbl_quads(main: Quads | Path, rows: Sequence[OdblCoordinate], *, base: str) -> Quads:
    """The ODbL graph for the CC BY-SA dataset ``main`` (or its union as N-Triples written
    by kg, read as it streams) and the ODbL table ``rows``.

    A row counts only if its place (``<base>place/QID``) is in ``main`` and has no geometry
    there (a stale row is left out, never a second geometry). Distances are added for the
    twinnings of ``main`` without one whose two places then both have a point. Raises
    :class:`ValueError` for coordinates out of range (the table reader refuses them).
    """
    iris = Iris(base)
    # Only the table's places are looked up: not a set of every subject of the graph.
    wanted = {iri(str(iris.place_qid(row.qid))).encode() for row in rows}
    # A first look, at C speed but for one test a line: a table none of whose places is in
    # the graph (a synthetic graph, another list) adds nothing, and the whole pass below
    # costs about a minute at 10^6 twinnings.
    if not any(line[:line.index(b" ")] in wanted for line in _lines(main)):
        return Quads({odbl_graph_iri(base): set()})
    subjects: set[bytes] = set()
    located: dict[bytes, tuple[float, float]] = {}  # place term -> (lat, lon), from main
    twinnings: set[bytes] = set()
    distances: set[bytes] = set()
    places: defaultdict[bytes, list[bytes]] = defaultdict(list)
    geometry_of: dict[bytes, bytes] = {}
    for line in _lines(main):
        s, p, o = _split(line)
        if s in wanted:
            subjects.add(s)
        if p == _WKT_PRED:
            located[s] = parse_wkt_point(_wkt(o))
        elif p == _GEOM_PRED:
            geometry_of[o] = s
        elif p == _PLACE_PRED:
            places[s].append(o)
        elif p == _TYPE_PRED and o == _TWINNING:
            twinnings.add(s)
        elif p == _DIST_PRED:
            distances.add(s)
    coords = {geometry_of[g]: point for g, point in located.items() if g in geometry_of}
    dataset = iri(odbl_dataset_iri(base))
    source = iri(ODBL_SOURCE)
    licence = iri(ODBL_LICENSE)
    lines: set[bytes] = set()

    def add(s: Term, p: str, o: Term) -> None:
        lines.add(f"{s} {iri(p)} {o} .".encode())

    added: dict[bytes, tuple[float, float]] = {}
    for row in rows:
        place = iris.place_qid(row.qid)
        term = iri(str(place))
        key = term.encode()
        if key not in subjects or key in coords:
            continue
        lat, lon = float(row.lat), float(row.lon)
        geometry = iri(geometry_iri(str(place)))
        add(term, HAS_GEOMETRY, geometry)
        add(geometry, _RDF_TYPE, iri(GEOMETRY))
        add(geometry, ASWKT, literal(wkt_point(lat, lon), datatype=WKT_LITERAL))
        add(geometry, str(VOID.inDataset), dataset)
        # The licence on the record itself too, so any description that shows the geometry
        # shows it (ODbL's preamble asks to say what rights govern what contents).
        add(geometry, str(DCTERMS.license), licence)
        add(geometry, str(PROV.wasDerivedFrom), source)
        add(geometry, str(RDFS.comment),
            literal(f"coordinates of {row.coord_evidence} (ODbL 1.0)", lang="en"))
        added[key] = (lat, lon)
    if added:
        both = {**coords, **added}
        for twinning in sorted(twinnings - distances):
            ends = sorted(set(places.get(twinning, ())))
            if (len(ends) == 2 and all(e in both for e in ends)
                    and any(e in added for e in ends)):
                km = distance_km(both[ends[0]], both[ends[1]])
                add(Term(twinning.decode()), DISTANCE_KM, literal(km, datatype=XSD_DECIMAL))
        add(dataset, str(DCTERMS.title),
            literal("Twinning knowledge graph: coordinates under ODbL", lang="en"))
        add(dataset, str(DCTERMS.license), licence)
        add(dataset, str(DCTERMS.rights), literal(ODBL_ATTRIBUTION, lang="en"))
        add(dataset, str(DCTERMS.source), source)
    return Quads({odbl_graph_iri(base): lines})


def _lines(main: Quads | Path) -> Iterator[bytes]:
    if isinstance(main, Quads):
        yield from main.union
        return
    with main.open("rb") as handle:
        for line in handle:
            yield line.rstrip(b"\n")


def odbl_dumps(data: Quads, formats: Sequence[str], *,
               spool_dir: Path | None = None) -> dict[str, bytes]:
    """The dump files of the ODbL graph ``data``, file name -> bytes, one per format (the
    writers of :mod:`kg.rdf.serialize`, spooling in ``spool_dir``); none when ``data`` is
    empty. Raises :class:`~kg.errors.RdfError` for an unknown format, ``OSError``."""
    if not len(data):
        return {}
    names = odbl_file_names(formats)
    written = serialize_dataset(data, list(formats), spool_dir=spool_dir)
    return {names[fmt]: out for fmt, out in written.items()}


def with_odbl(main: Quads, odbl: Quads) -> Quads:
    """``main`` with the ODbL graph beside it (``main`` itself when that is empty): what the
    build validates, so the shapes see each ODbL geometry with the place it belongs to."""
    return Quads({**main.graphs, **odbl.graphs}) if len(odbl) else main


def add_odbl_void(g: Graph, data: Quads, *, base: str, files: Mapping[str, bytes],
                  sparql_endpoint: str) -> None:
    """Describe the ODbL dataset ``data`` in the VoID graph ``g``: a ``void:Dataset`` and
    ``dcat:Dataset`` of its own (ODbL licence, attribution, source, the named graph as its
    subset, its dumps ``files``, file name -> bytes), and a ``void:Linkset`` for its
    ``geo:hasGeometry`` links from the CC BY-SA dataset's places. Nothing when ``data``
    is empty."""
    if not len(data):
        return
    iris = Iris(base)
    main = iris.dataset()
    dataset = URIRef(odbl_dataset_iri(base))
    license_ = URIRef(ODBL_LICENSE)
    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, RDF.type, DCAT.Dataset))
    g.add((dataset, DCTERMS.title,
           Literal("Twinning knowledge graph: coordinates under ODbL", lang="en")))
    g.add((dataset, DCTERMS.description, Literal(
        "Point geometries of provinces, states, counties and countries of the twinning "
        "knowledge graph that its CC BY-SA sources give no coordinates for, and the "
        "distances of the twinnings that need them, from the Countries States Cities "
        "Database. A database of its own under the Open Database License 1.0 (contents "
        "under the Database Contents License 1.0), kept apart from the CC BY-SA 4.0 graph.",
        lang="en")))
    g.add((dataset, DCTERMS.license, license_))
    g.add((dataset, DCTERMS.rights, Literal(ODBL_ATTRIBUTION, lang="en")))
    g.add((dataset, DCTERMS.source, URIRef(ODBL_SOURCE)))
    g.add((dataset, PROV.wasDerivedFrom, URIRef(ODBL_SOURCE)))
    g.add((dataset, DCTERMS.relation, main))
    g.add((main, DCTERMS.relation, dataset))
    g.add((dataset, VOID.sparqlEndpoint, URIRef(sparql_endpoint)))
    g.add((dataset, VOID.triples, Literal(len(data), datatype=XSD.integer)))
    g.add((dataset, VOID.uriSpace, Literal(base)))
    for name, lines in data.graphs.items():
        graph = URIRef(name)
        g.add((dataset, VOID.subset, graph))
        g.add((graph, RDF.type, VOID.Dataset))
        g.add((graph, VOID.triples, Literal(len(lines), datatype=XSD.integer)))
        g.add((graph, DCTERMS.license, license_))
        g.add((graph, DCTERMS.source, URIRef(ODBL_SOURCE)))
    links = sum(1 for line in data.union if _split(line)[1] == _GEOM_PRED)
    linkset = iris.dataset("linkset/geo-odbl")
    g.add((dataset, VOID.subset, linkset))
    g.add((linkset, RDF.type, VOID.Linkset))
    g.add((linkset, VOID.linkPredicate, URIRef(HAS_GEOMETRY)))
    g.add((linkset, VOID.subjectsTarget, main))
    g.add((linkset, VOID.objectsTarget, dataset))
    g.add((linkset, VOID.triples, Literal(links, datatype=XSD.integer)))
    g.add((linkset, DCTERMS.license, license_))
    for name in sorted(files):
        node = iris.dataset(name)
        fmt = name.rsplit(".", 1)[1]
        g.add((dataset, DCAT.distribution, node))
        g.add((dataset, VOID.dataDump, URIRef(base + name)))
        g.add((node, RDF.type, DCAT.Distribution))
        g.add((node, DCAT.mediaType,
               URIRef(f"https://www.iana.org/assignments/media-types/{FORMATS[fmt].media_type}")))
        g.add((node, DCAT.downloadURL, URIRef(base + name)))
        g.add((node, DCAT.byteSize, Literal(len(files[name]), datatype=XSD.nonNegativeInteger)))
        g.add((node, DCTERMS.license, license_))
        g.add((node, DCTERMS.title, Literal(name)))
    service = URIRef(sparql_endpoint)
    g.add((service, DCAT.servesDataset, dataset))
