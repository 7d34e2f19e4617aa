"""twinning-kg: twinned cities and city-network memberships as linked data.

The package is a pipeline of stages, each a module with one public entry point:
``kg.sources`` (parse) -> ``kg.reconcile`` (Wikidata QIDs) -> ``kg.rdf`` (emit) ->
``kg.validate`` (SHACL) -> ``kg.store`` / ``kg.serve`` / ``kg.load``. ``kg.cli`` wires them.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
