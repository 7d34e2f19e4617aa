"""``kg serve``: the SPARQL 1.1 endpoint and web page over an embedded pyoxigraph store.

:mod:`kg.serve.protocol` is the protocol logic (no HTTP framework); :mod:`kg.serve.app`
is the HTTP server and its routes; :mod:`kg.serve.site` the dataset, VoID and service
description; :mod:`kg.serve.linked_data`, :mod:`kg.serve.descriptions` and
:mod:`kg.serve.pages` (with ``templates/``) the Linked Data; ``static/`` is the web page.
"""

from __future__ import annotations

__all__: list[str] = []
