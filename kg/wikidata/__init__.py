"""Give back to Wikidata: compare the graph's twinnings with Wikidata's P190 statements and
write reviewable QuickStatements with references (``kg wikidata diff``,
``kg wikidata quickstatements``).

This stage comes after :mod:`kg.rdf`: it reads the built graph, the links table (the evidence
of each QID) and the give-back evidence file (source page URLs, network QIDs), asks Wikidata's
query service (or any Wikibase's, or a mirror) through the project's Wikidata client, and
writes files for a person to review and submit. It never edits Wikidata: no login, no bot.

>>> from kg.wikidata.ours import StartDate
>>> StartDate("1980-02", 10).quickstatements()
'+1980-02-00T00:00:00Z/10'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from kg.wikidata.compare import Batch, Diff, diff, quickstatements, render_diff, review_csv
from kg.wikidata.ours import (
    GiveBackEvidence,
    OurData,
    qid_evidence,
    read_evidence,
    read_graph,
)
from kg.wikidata.theirs import SelectClient, WikidataView, fetch

__all__ = [
    "Batch",
    "Comparison",
    "Diff",
    "compare",
    "make_client",
    "qid_evidence",
    "quickstatements",
    "render_diff",
    "review_csv",
]


@dataclass(frozen=True)
class Comparison:
    """Our data, Wikidata's answers, the diff, and the evidence the batch cites."""

    ours: OurData
    view: WikidataView
    diff: Diff
    evidence: GiveBackEvidence

    def batch(self) -> Batch:
        """The QuickStatements batch of this comparison."""
        return quickstatements(self.diff, self.ours, self.view, self.evidence)


def make_client(*, sparql_url: str, cache_dir: Path | None = None,
                user_agent: str | None = None) -> SelectClient:
    """The project's Wikidata client (:class:`kg.reconcile.wikidata.WikidataClient`) for
    ``sparql_url``, its answers cached under ``cache_dir`` (default: the user's cache folder,
    ``~/.cache/twinning-kg/wikidata``, shared with ``kg reconcile --online``)."""
    from kg.reconcile.gazetteer import default_cache_dir
    from kg.reconcile.wikidata import DEFAULT_USER_AGENT, WikidataClient

    return WikidataClient(sparql_url=sparql_url,
                          cache_dir=cache_dir or default_cache_dir() / "wikidata",
                          user_agent=user_agent or DEFAULT_USER_AGENT)


def compare(*, graph: Path, evidence_file: Path, client: SelectClient, endpoint: str = "",
            source_urls: Mapping[str, str] | None = None) -> Comparison:
    """Read the graph and the give-back evidence file, ask Wikidata, compare.

    ``source_urls`` (document id → page URL, from ``--source-url``) take precedence over the
    evidence file, with the evidence "given on the command line". Raises
    :class:`~kg.errors.GiveBackError` for a bad graph or evidence file and
    :class:`~kg.errors.WikidataError` when the service fails.
    """
    ours = read_graph(graph)
    evidence = read_evidence(evidence_file)
    if source_urls:
        pages = dict(evidence.pages)
        pages.update({doc: (url, "given on the command line (--source-url)")
                      for doc, url in source_urls.items()})
        evidence = replace(evidence, pages=pages)
    networks = {ours.place(m.network).en for m in ours.memberships}
    known = sorted(evidence.networks[n][0] for n in networks if n in evidence.networks)
    members = sorted({ours.place(m.member).qid for m in ours.memberships} - {""})
    view = fetch(client, ours.qids(), networks=known, members=members if known else [],
                 endpoint=endpoint)
    return Comparison(ours, view, diff(ours, view), evidence)
