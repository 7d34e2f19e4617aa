"""``kg serve``: the SPARQL 1.1 endpoint and web page over an embedded pyoxigraph store.

One concern a module: :mod:`~kg.serve.limits` (every limit, one frozen object),
:mod:`~kg.serve.formats` (content negotiation on pyoxigraph's format enums),
:mod:`~kg.serve.protocol` (SPARQL Protocol request parsing, the response),
:mod:`~kg.serve.results` (truncation-aware result writers), :mod:`~kg.serve.execute` (what
a query worker runs), :mod:`~kg.serve.workers` (the pool), :mod:`~kg.serve.engine`
(admission and the byte-bounded cache), :mod:`~kg.serve.fairness` (per-client limits),
:mod:`~kg.serve.app` (the strict HTTP server and its routes), :mod:`~kg.serve.site` (the
dataset, VoID and service description), :mod:`~kg.serve.linked_data`,
:mod:`~kg.serve.descriptions` and :mod:`~kg.serve.pages` (with ``templates/``: Linked
Data); ``static/`` is the web page.
"""

from __future__ import annotations

__all__: list[str] = []
