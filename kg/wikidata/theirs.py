"""Wikidata's side: the P190 (and P463) statements between the items of our graph.

Asked of the query service through :class:`kg.reconcile.wikidata.WikidataClient` (its
User-Agent, retries honouring ``Retry-After`` and persistent cache with retrieval times), in
batches of at most :data:`SPARQL_BATCH` items per ``VALUES``. Both views are read: truthy
statements (``wdt:P190``: best rank only) and full statements (``p:P190/ps:P190`` with
``wikibase:rank`` and the ``pq:P580`` start time, with its precision where the service has
``pqv:P580``). A direction is *stated* when a truthy triple or a non-deprecated statement
says so, *deprecated* when only deprecated statements do, *absent* otherwise; a deprecated
statement counts as absent, and is reported as deprecated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kg.reconcile.wikidata import ENTITY_IRI, Evidence

__all__ = ["SPARQL_BATCH", "Direction", "SelectClient", "WikidataView", "fetch"]

#: Items per ``VALUES`` clause: "a few hundred" keeps each GET request well under URL limits.
SPARQL_BATCH = 200
_WIKIBASE = "http://wikiba.se/ontology#"
_DEPRECATED = f"{_WIKIBASE}DeprecatedRank"
_QID = re.compile(r"Q[1-9][0-9]*")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_PREFIXES = f"""\
PREFIX wd: <{ENTITY_IRI}>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
PREFIX p: <http://www.wikidata.org/prop/>
PREFIX ps: <http://www.wikidata.org/prop/statement/>
PREFIX pq: <http://www.wikidata.org/prop/qualifier/>
PREFIX pqv: <http://www.wikidata.org/prop/qualifier/value/>
PREFIX wikibase: <{_WIKIBASE}>
"""


class SelectClient(Protocol):
    """What :func:`fetch` needs of a client: :meth:`WikidataClient.select`."""

    def select(self, query: str) -> tuple[list[dict[str, dict[str, str]]], Evidence]:
        """Bindings of a SELECT query and the evidence of the answer."""
        ...


@dataclass
class Direction:
    """What Wikidata says of one direction (``subject P object``)."""

    truthy: bool = False
    ranks: set[str] = field(default_factory=set)
    #: ``(YYYY-MM-DD, precision or 0 when unknown)`` of the non-deprecated statements' P580.
    starts: list[tuple[str, int]] = field(default_factory=list)

    @property
    def state(self) -> str:
        """``stated``, ``deprecated`` or ``absent``."""
        if self.truthy or self.ranks - {_DEPRECATED}:
            return "stated"
        return "deprecated" if self.ranks else "absent"


@dataclass
class WikidataView:
    """The answers: P190 directions between our items, P463 of our items to the networks,
    the retrieval time of the answers about each item, the endpoint."""

    endpoint: str
    p190: dict[tuple[str, str], Direction] = field(default_factory=dict)
    p463: dict[tuple[str, str], Direction] = field(default_factory=dict)
    retrieved: dict[str, str] = field(default_factory=dict)

    def direction(self, subject: str, obj: str) -> Direction:
        """The P190 direction ``subject → obj`` (absent when Wikidata says nothing)."""
        return self.p190.get((subject, obj)) or Direction()

    def membership(self, member: str, network: str) -> Direction:
        """The P463 direction ``member → network``."""
        return self.p463.get((member, network)) or Direction()


def _batches(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), SPARQL_BATCH):
        yield list(items[start:start + SPARQL_BATCH])


def _qid(term: dict[str, str] | None) -> str:
    if not term or term.get("type") != "uri":
        return ""
    value = term.get("value", "")
    local = value[len(ENTITY_IRI):] if value.startswith(ENTITY_IRI) else ""
    return local if _QID.fullmatch(local) else ""


def _start(row: dict[str, dict[str, str]]) -> tuple[str, int] | None:
    value = row.get("start", {}).get("value", "").lstrip("+")
    if not _DAY.match(value):
        return None
    precision = row.get("precision", {}).get("value", "")
    return value[:10], int(precision) if precision.isdigit() else 0


def _ask(client: SelectClient, view: WikidataView, query: str,
         batch: list[str]) -> list[dict[str, dict[str, str]]]:
    rows, evidence = client.select(query)
    for qid in batch:
        view.retrieved[qid] = max(view.retrieved.get(qid, ""), evidence.retrieved)
    return rows


def _read(client: SelectClient, view: WikidataView, prop: str, batch: list[str],
          targets: str, table: dict[tuple[str, str], Direction], wanted: set[str]) -> None:
    """Truthy and full statements of ``prop`` for the items of ``batch`` into ``table``."""
    values = " ".join(f"wd:{qid}" for qid in batch)
    target_values = f"  VALUES ?twin {{ {targets} }}\n" if targets else ""
    truthy = (f"{_PREFIXES}SELECT ?item ?twin WHERE {{\n  VALUES ?item {{ {values} }}\n"
              f"{target_values}  ?item wdt:{prop} ?twin .\n}}")
    full = (f"{_PREFIXES}SELECT ?item ?twin ?rank ?start ?precision WHERE {{\n"
            f"  VALUES ?item {{ {values} }}\n{target_values}"
            f"  ?item p:{prop} ?statement .\n"
            f"  ?statement ps:{prop} ?twin ; wikibase:rank ?rank .\n"
            f"  OPTIONAL {{ ?statement pq:P580 ?start .\n"
            f"    OPTIONAL {{ ?statement pqv:P580 ?value .\n"
            f"      ?value wikibase:timeValue ?start ; wikibase:timePrecision ?precision }} }}\n}}")
    for row in _ask(client, view, truthy, batch):
        item, twin = _qid(row.get("item")), _qid(row.get("twin"))
        if item and twin in wanted:
            table.setdefault((item, twin), Direction()).truthy = True
    for row in _ask(client, view, full, batch):
        item, twin = _qid(row.get("item")), _qid(row.get("twin"))
        rank = row.get("rank", {}).get("value", "")
        if not item or twin not in wanted or not rank.startswith(_WIKIBASE):
            continue
        direction = table.setdefault((item, twin), Direction())
        direction.ranks.add(rank)
        start = _start(row)
        if rank != _DEPRECATED and start is not None and start not in direction.starts:
            direction.starts.append(start)


def fetch(client: SelectClient, qids: Sequence[str], *, networks: Sequence[str] = (),
          members: Sequence[str] = (), endpoint: str = "") -> WikidataView:
    """Ask Wikidata about ``qids``: their P190 statements whose value is one of ``qids``, and
    the P463 statements of ``members`` whose value is one of ``networks``.

    Raises :class:`~kg.errors.WikidataError` when the service fails or answers garbage.
    """
    view = WikidataView(endpoint)
    ours = sorted(set(qids), key=lambda q: int(q[1:]))
    for batch in _batches(ours):
        _read(client, view, "P190", batch, "", view.p190, set(ours))
    if networks and members:
        targets = " ".join(f"wd:{qid}" for qid in sorted(set(networks)))
        wanted = sorted(set(members), key=lambda q: int(q[1:]))
        for batch in _batches(wanted):
            _read(client, view, "P463", batch, targets, view.p463, set(networks))
    return view
