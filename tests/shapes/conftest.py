"""The project's shapes and ontology, loaded once for the shape tests on small graphs."""

from __future__ import annotations

import pytest
from rdflib import Graph

from kg import paths
from kg.validate import load_graph, load_shapes


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes(paths.SHAPES_DIR)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_graph(paths.ONTOLOGY, what="ontology")
