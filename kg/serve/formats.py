"""Media types and content negotiation, on pyoxigraph's own format enums.

The offers are media types; what each one is written as comes from pyoxigraph
(:meth:`pyoxigraph.QueryResultsFormat.from_media_type`,
:meth:`pyoxigraph.RdfFormat.from_media_type`), so this module keeps no table of its own
beyond the order of preference and the usual aliases clients send (``application/json``,
``text/xml``, ``text/plain``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

__all__ = [
    "ASK_TYPES",
    "GRAPH_TYPES",
    "SELECT_TYPES",
    "content_type",
    "negotiate",
    "offers",
    "parse_accept",
    "parse_media_type",
    "rdf_format",
    "results_format",
]


def _bare(media: str) -> str:
    return media.split(";")[0].strip()


_RESULTS = (ox.QueryResultsFormat.JSON, ox.QueryResultsFormat.XML, ox.QueryResultsFormat.CSV,
            ox.QueryResultsFormat.TSV)
_GRAPHS = (ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.JSON_LD,
           ox.RdfFormat.RDF_XML)
_JSON_XML_ALIASES = ("application/json", "application/xml", "text/xml")

#: Media types offered for SELECT results, in the server's order of preference.
SELECT_TYPES: tuple[str, ...] = (*(_bare(f.media_type) for f in _RESULTS), *_JSON_XML_ALIASES)
#: Media types offered for ASK results (CSV and TSV cannot carry a boolean).
ASK_TYPES: tuple[str, ...] = (*(_bare(f.media_type) for f in _RESULTS[:2]), *_JSON_XML_ALIASES)
#: Media types offered for CONSTRUCT and DESCRIBE results (and RDF documents), with the
#: format pyoxigraph writes for each (``text/plain`` is N-Triples, as pyoxigraph says).
GRAPH_TYPES: dict[str, ox.RdfFormat] = {
    media: fmt for media, fmt in
    [(_bare(f.media_type), f) for f in _GRAPHS] + [("text/plain", ox.RdfFormat.N_TRIPLES)]
}


def results_format(media: str) -> ox.QueryResultsFormat:
    """The results format pyoxigraph writes for ``media`` (one of :data:`SELECT_TYPES`).

    Raises :class:`ValueError` for a media type pyoxigraph does not know.
    """
    fmt = ox.QueryResultsFormat.from_media_type(media)
    if fmt is None:
        raise ValueError(f"not a SPARQL results media type: {media}")
    return fmt


def rdf_format(media: str) -> ox.RdfFormat:
    """The RDF format for ``media`` (a key of :data:`GRAPH_TYPES`).

    Raises :class:`KeyError` for another media type.
    """
    return GRAPH_TYPES[media]


def offers(form: str) -> tuple[str, ...]:
    """The media types offered for a query form: ``solutions``, ``boolean`` or ``graph``."""
    if form == "solutions":
        return SELECT_TYPES
    if form == "boolean":
        return ASK_TYPES
    return tuple(GRAPH_TYPES)


def parse_media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """``(type/subtype, params)`` of a ``Content-Type``-like header, lower-cased
    (``("", {})`` for none)."""
    if not header:
        return "", {}
    parts = header.split(";")
    params: dict[str, str] = {}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        params[key.strip().lower()] = value.strip().strip('"').lower()
    return parts[0].strip().lower(), params


def parse_accept(header: str) -> list[tuple[str, float]]:
    """The media ranges of an ``Accept`` header with their q-values (malformed q: 0)."""
    ranges = []
    for item in header.split(","):
        media, params = parse_media_type(item)
        if not media:
            continue
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            q = 0.0
        ranges.append((media, min(max(q, 0.0), 1.0)))
    return ranges


def _quality(offer: str, ranges: Sequence[tuple[str, float]]) -> float:
    # The most specific matching range decides (RFC 9110 §12.5.1).
    kind = offer.split("/")[0]
    best_rank, best_q = -1, 0.0
    for media, q in ranges:
        if media == offer:
            rank = 2
        elif media == f"{kind}/*":
            rank = 1
        elif media == "*/*":
            rank = 0
        else:
            continue
        if rank > best_rank:
            best_rank, best_q = rank, q
    return best_q


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the ``Accept`` header prefers (highest q; ties go to the earlier offer),
    the first offer if there is no header, or ``None`` if it accepts none of them."""
    if not accept or not accept.strip():
        return offers[0]
    ranges = parse_accept(accept)
    best, best_q = None, 0.0
    for offer in offers:
        q = _quality(offer, ranges)
        if q > best_q:
            best, best_q = offer, q
    return best


def content_type(media: str) -> str:
    """The ``Content-Type`` header for ``media`` (text types say UTF-8)."""
    return f"{media}; charset=utf-8" if media.startswith("text/") else media
