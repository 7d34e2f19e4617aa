"""Records + links -> RDF: the twinning vocabulary, the emitter and the serialisations.

Entry point: :func:`emit` (records and links table -> :class:`~kg.rdf.quads.Quads`, the
triples of each named graph as sorted N-Triples lines, plus
:class:`~kg.rdf.emit.EmitStats`). :mod:`kg.rdf.vocab` holds the namespaces and the IRI
scheme; :mod:`kg.rdf.serialize` writes the ``dist/`` files from those lines with pyoxigraph.
"""

from __future__ import annotations

from kg.rdf.emit import EmitStats, emit

__all__ = ["EmitStats", "emit"]
