"""Namespaces and terms of the graph: the ontology's own (``TW``) and the reused ones.

The ``tw:`` terms are declared in ``ontology.ttl``; a test checks that every ``tw:`` term the
emitter or the shapes use is declared there. Data IRIs live under a configurable base
(:data:`DEFAULT_BASE`); :class:`Iris` mints them.
"""

from __future__ import annotations

from urllib.parse import quote

from rdflib import Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, TIME, VOID, XSD

__all__ = [
    "DBO",
    "DCAT",
    "DCTERMS",
    "DEFAULT_BASE",
    "DEFAULT_SPARQL_ENDPOINT",
    "FOAF",
    "ONTOLOGY_IRI",
    "ONTOLOGY_VERSION_IRI",
    "ORG",
    "OWL",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SH",
    "SKOS",
    "TIME",
    "TW",
    "VANN",
    "VOID",
    "WD",
    "WDT",
    "WIKIDATA_ENTITY_PATTERN",
    "XSD",
    "ZHWIKI_PAGE",
    "Iris",
]

#: The ontology namespace (prefix ``tw``).
TW = Namespace("https://w3id.org/twinning-kg/ontology#")
ONTOLOGY_IRI = URIRef("https://w3id.org/twinning-kg/ontology")
ONTOLOGY_VERSION_IRI = URIRef("https://w3id.org/twinning-kg/ontology/0.1.0")
#: Default base of data IRIs (places, twinnings, memberships, sources, the dataset).
DEFAULT_BASE = "https://w3id.org/twinning-kg/"
#: The SPARQL endpoint that ``kg serve`` opens by default, announced in ``void.ttl``.
DEFAULT_SPARQL_ENDPOINT = "http://127.0.0.1:8000/sparql"

SCHEMA = Namespace("https://schema.org/")
ORG = Namespace("http://www.w3.org/ns/org#")
VANN = Namespace("http://purl.org/vocab/vann/")
SH = Namespace("http://www.w3.org/ns/shacl#")
WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
DBO = Namespace("http://dbpedia.org/ontology/")
ZHWIKI_PAGE = "https://zh.wikipedia.org/wiki/"
#: What a Wikidata entity IRI in ``skos:exactMatch`` must look like (also used by the shapes).
WIKIDATA_ENTITY_PATTERN = r"^http://www\.wikidata\.org/entity/Q[1-9][0-9]*$"

#: Prefixes bound in every serialisation, in this order.
PREFIXES: tuple[tuple[str, str], ...] = (
    ("tw", str(TW)),
    ("dcat", str(DCAT)),
    ("dcterms", str(DCTERMS)),
    ("foaf", str(FOAF)),
    ("geo", "http://www.opengis.net/ont/geosparql#"),
    ("org", str(ORG)),
    ("owl", str(OWL)),
    ("prov", str(PROV)),
    ("rdf", str(RDF)),
    ("rdfs", str(RDFS)),
    ("schema", str(SCHEMA)),
    ("skos", str(SKOS)),
    ("time", str(TIME)),
    ("void", str(VOID)),
    ("wd", str(WD)),
    ("xsd", str(XSD)),
)


def _seg(text: str) -> str:
    # Percent-encode everything outside the unreserved set: IRIs stay ASCII and unambiguous.
    return quote(text, safe="")


class Iris:
    """Mints the data IRIs under ``base`` (which must end with ``/`` or ``#``).

    The scheme (``<base>`` = ``https://w3id.org/twinning-kg/`` by default):

    * ``place/Q123``: a place resolved to a Wikidata item (one node per item, whichever
      document names it);
    * ``place/lhc/<country>/<city>``, ``place/lhc/<country>``, ``place/zhwiki/<title>``: an
      unresolved place, by its reference in its document (segments percent-encoded);
    * ``twinning/zhwiki/L612`` (``-2``… for a second record on one line),
      ``membership/lhc/L12``: the statements, by source line;
    * ``source/lhc``, ``source/zhwiki``, ``source/links`` and ``source/<doc>#L12``: the
      documents and their lines (provenance);
    * ``network/<slug>``, ``period/as-of-2025-12``, ``period/2025-12``: networks, periods;
    * ``graph/<doc>``: named graphs; ``dataset``, ``dataset/<file>``, ``dataset/linkset/wikidata``.
    """

    def __init__(self, base: str = DEFAULT_BASE) -> None:
        if not base.endswith(("/", "#")):
            base += "/"
        self.base = base

    def _iri(self, path: str) -> URIRef:
        return URIRef(self.base + path)

    def place_qid(self, qid: str) -> URIRef:
        """The node of a place resolved to Wikidata item ``qid``."""
        return self._iri(f"place/{qid}")

    def place_lhc_city(self, country_en: str, city_en: str) -> URIRef:
        """An unresolved League member city."""
        return self._iri(f"place/lhc/{_seg(country_en)}/{_seg(city_en)}")

    def place_lhc_country(self, country_en: str) -> URIRef:
        """An unresolved League country."""
        return self._iri(f"place/lhc/{_seg(country_en)}")

    def place_zhwiki(self, title: str) -> URIRef:
        """An unresolved zh.wikipedia place, by its article title."""
        return self._iri(f"place/zhwiki/{_seg(title)}")

    def place_ref(self, doc: str, *names: str) -> URIRef:
        """An unresolved place of any other document, by the names of its reference
        (a generic list's: its country, then the place; ``-`` for a missing one)."""
        return self._iri("/".join(["place", doc, *(_seg(n) or "-" for n in names)]))

    def twinning(self, doc: str, line: int, index: int = 1) -> URIRef:
        """The twinning stated at ``doc`` line ``line`` (``index`` > 1 for a second one)."""
        suffix = "" if index == 1 else f"-{index}"
        return self._iri(f"twinning/{doc}/L{line}{suffix}")

    def membership(self, doc: str, line: int, index: int = 1) -> URIRef:
        """The membership stated at ``doc`` line ``line``."""
        suffix = "" if index == 1 else f"-{index}"
        return self._iri(f"membership/{doc}/L{line}{suffix}")

    def source(self, doc: str) -> URIRef:
        """A source document."""
        return self._iri(f"source/{doc}")

    def source_line(self, doc: str, line: int) -> URIRef:
        """One line of a source document."""
        return self._iri(f"source/{doc}#L{line}")

    def network(self, name: str) -> URIRef:
        """A city network, by a slug of its English name."""
        slug = "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())
        return self._iri(f"network/{_seg(slug)}")

    def period_as_of(self, as_of: str) -> URIRef:
        """The interval of a membership listed "as of" ``as_of`` (e.g. ``2025-12``)."""
        return self._iri(f"period/as-of-{_seg(as_of)}")

    def instant(self, when: str) -> URIRef:
        """The instant ``when`` (e.g. ``2025-12``)."""
        return self._iri(f"period/{_seg(when)}")

    def graph(self, doc: str) -> URIRef:
        """The named graph holding what ``doc`` states."""
        return self._iri(f"graph/{doc}")

    def dataset(self, part: str = "") -> URIRef:
        """The dataset (``part`` empty), a distribution file or the linkset."""
        return self._iri("dataset" + (f"/{part}" if part else ""))
