"""GeoSPARQL geometry of places and great-circle distances of twinnings, as plain triples.

Independent of any RDF library: :func:`geo_triples` yields tuples ``(subject IRI,
predicate IRI, object)`` whose object is an IRI string or a ``(lexical form, datatype IRI)``
pair, for whichever writer the emitter uses. The coordinates come from the links table
(``lat``/``lon``, each with the gazetteer record or Wikidata answer that gave it).

What it states, in the graph of the links (what reconciliation adds):

- ``<place> geo:hasGeometry <place#geometry>`` (an IRI, not a blank node: the graph has
  none; a hash IRI dereferences to the place's own page),
  ``<place#geometry> a geo:Geometry ; geo:asWKT "POINT(lon lat)"^^geo:wktLiteral``
  (WKT puts longitude first; with no CRS IRI the literal is in CRS84, i.e. WGS84 lon/lat);
- ``<twinning> tw:distanceKm "8453.2"^^xsd:decimal`` when both places have coordinates:
  the haversine great-circle distance on a sphere of the mean Earth radius, rounded to
  0.1 km (the spherical model errs by up to about 0.5 %, well above that rounding).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping

from kg.model import LinkRow
from kg.rdf.literals import canonical_decimal

__all__ = [
    "ASWKT",
    "DISTANCE_KM",
    "EARTH_RADIUS_KM",
    "GEO",
    "GEOMETRY",
    "HAS_GEOMETRY",
    "WKT_LITERAL",
    "XSD_DECIMAL",
    "Object",
    "Triple",
    "distance_km",
    "geo_triples",
    "geometry_iri",
    "haversine_km",
    "parse_wkt_point",
    "place_coordinates",
    "wkt_point",
]

GEO = "http://www.opengis.net/ont/geosparql#"
HAS_GEOMETRY = GEO + "hasGeometry"
ASWKT = GEO + "asWKT"
GEOMETRY = GEO + "Geometry"
WKT_LITERAL = GEO + "wktLiteral"
DISTANCE_KM = "https://w3id.org/twinning-kg/ontology#distanceKm"
XSD_DECIMAL = "http://www.w3.org/2001/XMLSchema#decimal"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

#: Mean Earth radius (IUGG R1), km.
EARTH_RADIUS_KM = 6371.0088

#: An object: an IRI, or a literal as (lexical form, datatype IRI).
Object = str | tuple[str, str]
Triple = tuple[str, str, Object]


def geometry_iri(place_iri: str) -> str:
    """The IRI of a place's point geometry: ``<place IRI>#geometry``."""
    return f"{place_iri}#geometry"


def _degrees(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def wkt_point(lat: float, lon: float) -> str:
    """The WKT of a point, longitude first: ``POINT(116.388286 39.928892)``.

    Raises :class:`ValueError` for a latitude outside [-90, 90] or a longitude outside
    [-180, 180] (or a NaN).
    """
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"coordinates out of range: lat {lat}, lon {lon}")
    return f"POINT({_degrees(lon)} {_degrees(lat)})"


def parse_wkt_point(wkt: str) -> tuple[float, float]:
    """``(lat, lon)`` of a ``POINT(lon lat)`` WKT. Raises :class:`ValueError` otherwise."""
    text = wkt.strip()
    if not (text.startswith("POINT(") and text.endswith(")")):
        raise ValueError(f"not a WKT point: {wkt!r}")
    parts = text[len("POINT("):-1].split()
    if len(parts) != 2:
        raise ValueError(f"not a WKT point: {wkt!r}")
    lon, lat = float(parts[0]), float(parts[1])
    return lat, lon


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in km between two WGS84 points, on a sphere of radius
    :data:`EARTH_RADIUS_KM` (haversine formula, well-conditioned for short distances)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dphi = p2 - p1
    dlam = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> str:
    """The distance between ``(lat, lon)`` points as a canonical ``xsd:decimal`` lexical form
    (the form stores give back, :mod:`kg.rdf.literals`), rounded to 0.1 km (``"8453.2"``,
    ``"2327"`` for 2327.0)."""
    text = canonical_decimal(f"{haversine_km(a[0], a[1], b[0], b[1]):.1f}")
    assert text is not None  # a finite float always formats as a decimal
    return text


def place_coordinates(rows: Iterable[LinkRow],
                      place_iri: Callable[[str], str]) -> dict[str, tuple[float, float]]:
    """Place IRI (``place_iri(qid)``) -> ``(lat, lon)`` for every links row with a QID and
    coordinates. Coordinates are chosen by QID alone, so rows of one QID agree; the first
    (in table order) is taken."""
    out: dict[str, tuple[float, float]] = {}
    for row in rows:
        if row.qid and row.lat and row.lon:
            out.setdefault(place_iri(row.qid), (float(row.lat), float(row.lon)))
    return out


def geo_triples(coordinates: Mapping[str, tuple[float, float]],
                twinnings: Iterable[tuple[str, str, str]]) -> Iterator[Triple]:
    """The geometry of every place in ``coordinates`` (place IRI -> ``(lat, lon)``) and the
    distance of every twinning ``(twinning IRI, place IRI, place IRI)`` whose two places
    both have coordinates, in a stable order (places sorted, then twinnings as given),
    yielded one at a time (a list would hold millions of tuples at 10^6 twinnings, beside
    the emitted graph).

    Raises :class:`ValueError` for coordinates out of range (the links table reader has
    already refused them).
    """
    for place in sorted(coordinates):
        lat, lon = coordinates[place]
        geometry = geometry_iri(place)
        yield (place, HAS_GEOMETRY, geometry)
        yield (geometry, _RDF_TYPE, GEOMETRY)
        yield (geometry, ASWKT, (wkt_point(lat, lon), WKT_LITERAL))
    for twinning, a, b in twinnings:
        if a in coordinates and b in coordinates:
            yield (twinning, DISTANCE_KM,
                   (distance_km(coordinates[a], coordinates[b]), XSD_DECIMAL))
