"""Lexical forms every store keeps: what a literal must look like to come back unchanged.

Stores do not keep literals as written: they parse the value and write it back in their
own form. Measured on Oxigraph (pyoxigraph and ``oxigraph serve``, 0.5) and Virtuoso
(Debian's virtuoso-opensource 7.2) after ``kg load`` (``tests/rdf/test_served_graph.py``):

- ``xsd:decimal`` comes back in the XSD 1.1 canonical form on both: ``"1.10"`` ->
  ``"1.1"``, ``"2327.0"`` -> ``"2327"``, ``"-0.0"`` -> ``"0"``; so the graph writes
  decimals in that form (:func:`canonical_decimal`);
- ``xsd:positiveInteger`` comes back as ``xsd:integer`` on Oxigraph; so line numbers are
  ``xsd:integer`` and the shapes add ``sh:minInclusive 1``;
- language tags come back lower-cased on both (``zh-Hant`` -> ``zh-hant``): tags compare
  case-insensitively (RDF 1.1), so queries use ``langMatches``, never ``lang(?x) = "…"``;
- ``geo:wktLiteral`` comes back as ``virtrdf:Geometry`` on Virtuoso (lexical form kept):
  Virtuoso's own rewrite, which no lexical form avoids; the test names it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

__all__ = ["canonical_decimal"]


def canonical_decimal(text: str) -> str | None:
    """The canonical ``xsd:decimal`` lexical form (XSD 1.1) of ``text``, or None if ``text``
    is not a finite decimal: no exponent, no leading ``+``, no leading zeros, no trailing
    fractional zeros, no ``.0`` on a whole number, ``"0"`` for zero.

    >>> [canonical_decimal(t) for t in ("1.10", "2327.0", ".5", "-0.0", "+07", "1e3", "x")]
    ['1.1', '2327', '0.5', '0', '7', '1000', None]
    """
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    out = format(value, "f")
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    if out in ("-0", ""):
        out = "0"
    return out
