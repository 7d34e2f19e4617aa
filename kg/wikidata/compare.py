"""The comparison (``kg wikidata diff``) and the QuickStatements batch
(``kg wikidata quickstatements``) from our data and Wikidata's answers.

A *pair* is two resolved places that a source twins (one row per pair, however many source
lines state it; its orientation is the first line's: the listed place first). Its ``status``
counts a deprecated statement as absent: ``both`` directions stated on Wikidata, ``one``
(``which`` says which), ``none``; ``wikidata-only`` is a pair of our places that Wikidata
twins and no source does. ``forward`` and ``reverse`` give each direction's state
(``stated``, ``deprecated``, ``absent``).

Commands (QuickStatements V1, tab-separated), one per absent direction of a source pair:
``Qa P190 Qb [P580 +1980-02-25T00:00:00Z/11] S854 "page URL" S813 +2026-11-28T00:00:00Z/11``;
the start time carries its precision, the reference is the source page (from the give-back
evidence file) and the retrieval date is the date of the Wikidata answer the direction was
checked against. Nothing for an unresolved or ambiguous place, a direction Wikidata states or
deprecated, a pair whose page URL has no evidence, nothing twice. League memberships become
``Qm P463 Qleague`` only when the network's QID is recorded with evidence.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field

from kg.tabular import spreadsheet_safe
from kg.wikidata.ours import GiveBackEvidence, OurData, Place, StartDate
from kg.wikidata.theirs import Direction, WikidataView

__all__ = [
    "PAIR_COLUMNS",
    "REVIEW_COLUMNS",
    "Batch",
    "Command",
    "Diff",
    "PairRow",
    "diff",
    "quickstatements",
    "render_diff",
    "review_csv",
    "summary",
]

_PRECISION_NAME = {9: "year", 10: "month", 11: "day"}
PAIR_COLUMNS = (
    "status", "which", "forward", "reverse", "qid_a", "label_en_a", "label_zh_a", "qid_b",
    "label_en_b", "label_zh_b", "country_a", "country_b", "our_start", "our_precision",
    "source", "wikidata_p580", "start_differs", "note",
)
REVIEW_COLUMNS = (
    "command", "property", "subject", "subject_en", "subject_zh", "subject_evidence",
    "object", "object_en", "object_zh", "object_evidence", "source", "source_url",
    "our_start", "wikidata", "note",
)


@dataclass
class PairRow:
    """One row of the diff (see the module docstring)."""

    status: str
    which: str
    forward: str
    reverse: str
    qid_a: str
    label_en_a: str
    label_zh_a: str
    qid_b: str
    label_en_b: str
    label_zh_b: str
    country_a: str
    country_b: str
    our_start: str
    our_precision: str
    source: str
    wikidata_p580: str
    start_differs: str
    note: str
    # Not columns: what the batch needs.
    doc: str = field(default="", repr=False)
    date: StartDate | None = field(default=None, repr=False)

    def cells(self) -> list[str]:
        """The values of :data:`PAIR_COLUMNS`, in order."""
        return [str(getattr(self, name)) for name in PAIR_COLUMNS]


@dataclass
class Diff:
    """The rows, the totals and what was not compared."""

    rows: list[PairRow]
    by_status: dict[str, int]
    by_countries: list[tuple[str, str, dict[str, int]]]
    deprecated: int
    not_compared: int
    same_item: int
    endpoint: str


@dataclass(frozen=True)
class Command:
    """One QuickStatements line (``text`` empty when skipped, ``note`` says why)."""

    text: str
    prop: str
    subject: str
    obj: str
    source: str
    source_url: str
    our_start: str
    wikidata: str
    note: str


@dataclass
class Batch:
    """The commands, the skipped directions that a reviewer should know of, and the one-line
    messages about what was left out."""

    commands: list[Command]
    skipped: list[Command]
    messages: list[str]

    def text(self) -> str:
        """The QuickStatements V1 batch: one command per line, tab-separated."""
        return "".join(c.text + "\n" for c in self.commands)


def _country(ours: OurData, place: Place) -> str:
    if not place.country:
        return ""
    country = ours.place(place.country)
    return country.en or country.zh or country.qid


def _merge_dates(dates: list[tuple[StartDate, str]]) -> tuple[StartDate | None, str]:
    """The most precise of dates that agree, or none and a note when the sources disagree."""
    distinct = list(dict.fromkeys(d for d, _ in dates))
    if not distinct:
        return None, ""
    best = max(distinct, key=lambda d: d.precision)
    if all(best.covers(d.iso, d.precision) for d in distinct):
        return best, ""
    said = "; ".join(f"{d.iso} ({where})" for d, where in dates)
    return None, f"the sources disagree on the start: {said}"


def _wikidata_starts(*directions: Direction) -> list[tuple[str, int]]:
    return list(dict.fromkeys(s for d in directions for s in d.starts))


def _show_start(iso: str, precision: int) -> str:
    return iso[:{9: 4, 10: 7}.get(precision, 10)]


@dataclass
class _Pair:
    a: Place
    b: Place
    sources: list[str] = field(default_factory=list)
    dates: list[tuple[StartDate, str]] = field(default_factory=list)
    doc: str = ""


def _row(ours: OurData, view: WikidataView, a: Place, b: Place, status: str | None,
         pair: _Pair | None) -> PairRow:
    forward, reverse = view.direction(a.qid, b.qid), view.direction(b.qid, a.qid)
    stated = [d.state == "stated" for d in (forward, reverse)]
    if status is None:
        status = "both" if all(stated) else "one" if any(stated) else "none"
    which = ""
    if stated[0] != stated[1]:
        which = f"{a.qid}→{b.qid}" if stated[0] else f"{b.qid}→{a.qid}"
    date, note = _merge_dates(pair.dates) if pair else (None, "")
    starts = _wikidata_starts(forward, reverse)
    differs = ""
    if date is not None and starts:
        agree = any(date.covers(iso, precision or 11) for iso, precision in starts)
        differs = "no" if agree else "yes"
    deprecated = [f"{s}→{o}" for (s, o), d in (((a.qid, b.qid), forward),
                                               ((b.qid, a.qid), reverse))
                  if d.state == "deprecated"]
    if deprecated:
        note = "; ".join(filter(None, [note, "deprecated on Wikidata: " + " ".join(deprecated)]))
    return PairRow(
        status=status, which=which, forward=forward.state, reverse=reverse.state,
        qid_a=a.qid, label_en_a=a.en, label_zh_a=a.zh, qid_b=b.qid, label_en_b=b.en,
        label_zh_b=b.zh, country_a=_country(ours, a), country_b=_country(ours, b),
        our_start=date.iso if date else "",
        our_precision=_PRECISION_NAME[date.precision] if date else "",
        source=" ".join(pair.sources) if pair else "",
        wikidata_p580="; ".join(_show_start(iso, p) for iso, p in starts),
        start_differs=differs, note=note, doc=pair.doc if pair else "", date=date,
    )


def diff(ours: OurData, view: WikidataView) -> Diff:
    """Compare every twinning whose two places are resolved with Wikidata's P190, and list
    Wikidata's P190 statements between our places that no source has. Never raises."""
    pairs: dict[frozenset[str], _Pair] = {}
    not_compared = same_item = 0
    for twinning in ours.twinnings:
        a, b = ours.place(twinning.listed), ours.place(twinning.partner)
        if not a.qid or not b.qid:
            not_compared += 1
            continue
        if a.qid == b.qid:
            same_item += 1
            continue
        pair = pairs.setdefault(frozenset((a.qid, b.qid)), _Pair(a, b, doc=twinning.doc))
        if twinning.source not in pair.sources:
            pair.sources.append(twinning.source)
        if twinning.date is not None:
            pair.dates.append((twinning.date, twinning.source))
    rows = [_row(ours, view, p.a, p.b, None, p) for p in pairs.values()]
    by_qid: dict[str, Place] = {}
    for place in ours.places.values():
        if place.qid and place.qid not in by_qid:
            by_qid[place.qid] = place
    extra: set[frozenset[str]] = set()
    for (subject, obj), direction in view.p190.items():
        key = frozenset((subject, obj))
        if direction.state == "stated" and subject != obj and key not in pairs:
            extra.add(key)
    for key in sorted(extra, key=lambda k: sorted(int(q[1:]) for q in k)):
        a_qid, b_qid = sorted(key, key=lambda q: int(q[1:]))
        a = by_qid.get(a_qid) or Place("", a_qid)
        b = by_qid.get(b_qid) or Place("", b_qid)
        rows.append(_row(ours, view, a, b, "wikidata-only", None))
    by_status = Counter(r.status for r in rows)
    countries: dict[tuple[str, str], Counter[str]] = {}
    for r in rows:
        countries.setdefault((r.country_a, r.country_b), Counter())[r.status] += 1
    by_countries = sorted(
        ((ca, cb, dict(c)) for (ca, cb), c in countries.items()),
        key=lambda x: (-sum(x[2].values()), x[0], x[1]),
    )
    deprecated = sum(1 for r in rows for s in (r.forward, r.reverse) if s == "deprecated")
    return Diff(rows, {s: by_status.get(s, 0) for s in ("both", "one", "none", "wikidata-only")},
                by_countries, deprecated, not_compared, same_item, view.endpoint)


def render_diff(result: Diff, fmt: str) -> str:
    """The diff as ``table`` (rows, then totals), ``csv`` (rows only) or ``json`` (all)."""
    if fmt == "json":
        return json.dumps({
            "endpoint": result.endpoint,
            "pairs": [dict(zip(PAIR_COLUMNS, r.cells(), strict=True)) for r in result.rows],
            "totals": {
                "by_status": result.by_status,
                "deprecated_directions": result.deprecated,
                "not_compared_unresolved": result.not_compared,
                "same_item": result.same_item,
                "by_country_pair": [{"country_a": a, "country_b": b, **counts}
                                    for a, b, counts in result.by_countries],
            },
        }, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(PAIR_COLUMNS)
        writer.writerows([spreadsheet_safe(c) for c in r.cells()] for r in result.rows)
        return out.getvalue()
    from kg.query import render_table

    shown = ("status", "which", "qid_a", "label_en_a", "label_zh_a", "qid_b", "label_en_b",
             "label_zh_b", "our_start", "source", "wikidata_p580", "start_differs", "note")
    index = [PAIR_COLUMNS.index(c) for c in shown]
    parts = [render_table(shown, [[r.cells()[i] for i in index] for r in result.rows])]
    parts.append("\n" + summary(result))
    statuses = ("both", "one", "none", "wikidata-only")
    parts.append("\nTotals by pair of countries\n" + render_table(
        ("country_a", "country_b", "pairs", *statuses),
        [[a, b, str(sum(c.values())), *(str(c.get(s, 0)) for s in statuses)]
         for a, b, c in result.by_countries]))
    return "".join(parts)


def summary(result: Diff) -> str:
    """The totals by status, a few lines of text."""
    from kg.query import render_table

    rows = [[status, str(n)] for status, n in result.by_status.items()]
    rows.append(["total", str(sum(result.by_status.values()))])
    text = "Totals by status (pairs)\n" + render_table(("status", "pairs"), rows)
    text += (f"directions deprecated on Wikidata (counted as absent): {result.deprecated}\n"
             f"twinnings not compared (a place unresolved or ambiguous): {result.not_compared}\n")
    if result.same_item:
        text += f"twinnings of a place with itself (not compared): {result.same_item}\n"
    return text


def _date_value(retrieved: str) -> str:
    return f"+{retrieved[:10]}T00:00:00Z/11"


def quickstatements(result: Diff, ours: OurData, view: WikidataView,
                    evidence: GiveBackEvidence) -> Batch:
    """The QuickStatements batch for the directions Wikidata lacks (see the module
    docstring), with what was skipped and why. Never raises."""
    commands: list[Command] = []
    skipped: list[Command] = []
    messages: list[str] = []
    done: set[tuple[str, str, str]] = set()
    no_page: Counter[str] = Counter()
    deprecated = 0

    def page(doc: str) -> str:
        found = evidence.pages.get(doc)
        return found[0] if found else ""

    for row in result.rows:
        if row.status not in ("one", "none"):
            continue
        url = page(row.doc)
        for subject, obj, state in ((row.qid_a, row.qid_b, row.forward),
                                    (row.qid_b, row.qid_a, row.reverse)):
            if state == "stated" or (subject, "P190", obj) in done:
                continue
            done.add((subject, "P190", obj))
            start = row.date.quickstatements() if row.date else ""
            base = dict(prop="P190", subject=subject, obj=obj, source=row.source,
                        source_url=url, our_start=row.our_start,
                        wikidata=f"{row.qid_a}→{row.qid_b} {row.forward}; "
                        f"{row.qid_b}→{row.qid_a} {row.reverse}")
            if state == "deprecated":
                deprecated += 1
                skipped.append(Command(text="", note="Wikidata deprecated this statement: "
                                       "not written", **base))
                continue
            if not url:
                no_page[row.doc] += 1
                skipped.append(Command(text="", note=f"no page URL of {row.doc} with evidence: "
                                       "not written", **base))
                continue
            if not view.retrieved.get(subject):
                skipped.append(Command(text="", note="no Wikidata answer about the subject: "
                                       "not written", **base))
                continue
            parts = [subject, "P190", obj]
            if start:
                parts += ["P580", start]
            parts += ["S854", f'"{url}"', "S813", _date_value(view.retrieved.get(subject, ""))]
            commands.append(Command(text="\t".join(parts), note=row.note, **base))
    p190 = len(commands)
    if result.not_compared:
        messages.append(f"{result.not_compared} twinnings not written: a place unresolved or "
                        "ambiguous")
    if deprecated:
        messages.append(f"{deprecated} directions not written: Wikidata deprecated them")
    for doc, n in sorted(no_page.items()):
        messages.append(f"{n} P190 directions not written: no URL of the {doc} page recorded "
                        "with evidence (give-back evidence file)")
    _memberships(ours, view, evidence, commands, skipped, messages, done)
    messages.insert(0, f"{len(commands)} commands: {p190} P190, {len(commands) - p190} P463")
    return Batch(commands, skipped, messages)


def _memberships(ours: OurData, view: WikidataView, evidence: GiveBackEvidence,
                 commands: list[Command], skipped: list[Command], messages: list[str],
                 done: set[tuple[str, str, str]]) -> None:
    unknown: Counter[str] = Counter()
    unresolved = deprecated = 0
    no_page: Counter[str] = Counter()
    for membership in ours.memberships:
        network = ours.place(membership.network)
        name = network.en or network.zh or membership.network
        known = evidence.networks.get(name)
        if known is None:
            unknown[name] += 1
            continue
        member = ours.place(membership.member)
        if not member.qid:
            unresolved += 1
            continue
        league = known[0]
        if (member.qid, "P463", league) in done:
            continue
        done.add((member.qid, "P463", league))
        state = view.membership(member.qid, league).state
        if state == "stated":
            continue
        found = evidence.pages.get(membership.doc)
        url = found[0] if found else ""
        base = dict(prop="P463", subject=member.qid, obj=league, source=membership.source,
                    source_url=url, our_start="", wikidata=f"{member.qid}→{league} {state}")
        if state == "deprecated":
            deprecated += 1
            skipped.append(Command(text="", note="Wikidata deprecated this statement: "
                                   "not written", **base))
            continue
        if not url:
            no_page[membership.doc] += 1
            skipped.append(Command(text="", note=f"no page URL of {membership.doc} with "
                                   "evidence: not written", **base))
            continue
        if not view.retrieved.get(member.qid):
            skipped.append(Command(text="", note="no Wikidata answer about the member: "
                                   "not written", **base))
            continue
        text = "\t".join([member.qid, "P463", league, "S854", f'"{url}"', "S813",
                          _date_value(view.retrieved.get(member.qid, ""))])
        commands.append(Command(text=text, note="", **base))
    for name, n in sorted(unknown.items()):
        why = evidence.notes.get(("network", name), "")
        messages.append(f"{n} memberships of {name} not written: its QID is not recorded with "
                        f"evidence (give-back evidence file){': ' + why if why else ''}")
    if unresolved:
        messages.append(f"{unresolved} memberships not written: the member is unresolved or "
                        "ambiguous")
    if deprecated:
        messages.append(f"{deprecated} memberships not written: Wikidata deprecated them")
    for doc, n in sorted(no_page.items()):
        messages.append(f"{n} P463 statements not written: no URL of the {doc} page recorded "
                        "with evidence (give-back evidence file)")


def review_csv(batch: Batch, ours: OurData, qid_evidence: dict[str, str],
               evidence: GiveBackEvidence) -> str:
    """The review CSV: one row per command, then one per skipped direction (empty command,
    the note says why), with labels in en and zh and our evidence for each QID."""
    by_qid: dict[str, Place] = {}
    for place in ours.places.values():
        if place.qid and place.qid not in by_qid:
            by_qid[place.qid] = place
    network_evidence = {qid: ev for qid, ev in evidence.networks.values()}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REVIEW_COLUMNS)
    for command in [*batch.commands, *batch.skipped]:
        subject = by_qid.get(command.subject) or Place("", command.subject)
        obj = by_qid.get(command.obj) or Place("", command.obj)
        obj_evidence = qid_evidence.get(command.obj) or network_evidence.get(command.obj, "")
        writer.writerow([command.text] + [spreadsheet_safe(c) for c in [
            command.prop, command.subject, subject.en, subject.zh,
            qid_evidence.get(command.subject, ""), command.obj, obj.en, obj.zh, obj_evidence,
            command.source, command.source_url, command.our_start, command.wikidata,
            command.note,
        ]])
    return out.getvalue()
