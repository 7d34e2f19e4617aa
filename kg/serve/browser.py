"""Whether a request for SPARQL results comes from a person's browser that wants the page.

A browser that follows a link to ``/sparql?query=…`` (or to a named query,
``/queries/NAME?param=value``) sends ``Accept: text/html,…`` and no format parameter: it
gets the query page (``static/index.html``), whose script loads that query into the editor
and runs it, instead of raw SPARQL/XML. A program keeps getting
results: it names a results type (``application/sparql-results+json``), accepts anything
(``*/*``, or no ``Accept`` at all), or asks for a format by parameter (``format=``,
``output=``, as Fuseki and Virtuoso read them).

The decision is a pure function of the method, the URL's query string and ``Accept``, so the
router needs one ``if`` per route (:func:`wants_page`, :func:`wants_named_page`) wherever
it lives.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from kg.serve.formats import ASK_TYPES, GRAPH_TYPES, SELECT_TYPES, parse_accept

__all__ = ["FORMAT_PARAMETERS", "HTML_TYPES", "wants_named_page", "wants_page"]

#: Media types that mean "a page for a person".
HTML_TYPES = ("text/html", "application/xhtml+xml")
#: What the endpoint answers a query with: the types that compete with HTML.
_RESULT_TYPES = frozenset({*SELECT_TYPES, *ASK_TYPES, *GRAPH_TYPES})
#: URL parameters by which a client names a results format explicitly (Fuseki: ``format``,
#: ``output``; some endpoints ``results``): with one of them, never the page.
FORMAT_PARAMETERS = frozenset({"format", "output", "results"})


def wants_page(method: str, query_string: str, accept: str | None) -> bool:
    """True when a request to the SPARQL endpoint (``/sparql``) should get the query page.

    That is a ``GET`` or ``HEAD`` whose URL carries a ``query`` parameter and no format
    parameter (:data:`FORMAT_PARAMETERS`), and whose ``Accept`` names ``text/html`` (or
    XHTML) itself, not through a wildcard, with a higher q-value than every results type
    it names (SPARQL results and RDF formats; a browser's ``application/xml;q=0.9`` is
    one, its ``image/webp`` is not). A tie goes to the results. Never raises: a malformed
    query string or ``Accept`` simply gives ``False`` where it cannot be read.
    """
    keys = {key for key, _ in parse_qsl(query_string, keep_blank_values=True)}
    return "query" in keys and _prefers_page(method, keys, accept)


def wants_named_page(method: str, query_string: str, accept: str | None) -> bool:
    """True when a request to run a named query (``/queries/NAME?param=value``) should get
    the query page, with that query and its parameters filled in and run: the same rule
    as :func:`wants_page`, without the ``query`` parameter (the path names the query)."""
    keys = {key for key, _ in parse_qsl(query_string, keep_blank_values=True)}
    return _prefers_page(method, keys, accept)


def _prefers_page(method: str, keys: set[str], accept: str | None) -> bool:
    if method.upper() not in ("GET", "HEAD") or keys & FORMAT_PARAMETERS or not accept:
        return False
    ranges = parse_accept(accept)
    html = max((q for media, q in ranges if media in HTML_TYPES), default=0.0)
    # Wildcards say "anything will do"; only results types named outright compete.
    other = max((q for media, q in ranges if media in _RESULT_TYPES), default=0.0)
    return html > 0.0 and html > other
