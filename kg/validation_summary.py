"""The validation report for people: results grouped by shape, with counts and examples.

``kg validate`` prints this by default (``--full`` prints every result,
:func:`kg.validate.render_text`, which ``kg build`` writes to ``validation-report.txt``).
A group is one severity, shape, constraint and message; it shows how many results it holds
and the first few focus nodes, then "and N more". IRIs are shown as IRIs (RFC 3987 §3.2:
percent-encoded UTF-8 decoded, except what an IRI may not hold), so a Chinese place name
reads as itself. A file a message names (``see seeds/wikidata-links.tsv``) is shown as a
path that exists where the command runs: as written when it does, else the copy that ships
with the package.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from kg import paths
from kg.validate import _SEVERITY_NAMES, SEVERITY_ORDER, _path, _shape, top_results

__all__ = ["EXAMPLES", "readable_iri", "summarize"]

#: Focus nodes shown per group before "and N more".
EXAMPLES = 3

# Percent-escapes an IRI keeps (RFC 3987 §3.2): ASCII that is not unreserved (delimiters,
# space, controls, '%'), so decoding never changes what the IRI denotes.
_ESCAPE = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]")
_SEEDS_REF = re.compile(r"\bseeds/([A-Za-z0-9_.-]+)")


def readable_iri(iri: str) -> str:
    """``iri`` with its percent-encoded UTF-8 decoded where an IRI may hold the character
    (``place/zhwiki/%E5%8C%97%E4%BA%AC`` → ``place/zhwiki/北京``); escapes of ASCII
    delimiters, spaces and controls, and bytes that are not UTF-8, stay escaped."""

    def decode(match: re.Match[str]) -> str:
        text = match.group(0)
        try:
            chars = unquote(text, errors="strict")
        except UnicodeDecodeError:
            return text
        out = []
        for char, escape in zip(chars, _split_escapes(text), strict=False):
            keep = ord(char) < 0x80 and not _UNRESERVED.fullmatch(char)
            out.append(escape if keep or not char.isprintable() else char)
        return "".join(out)

    return _ESCAPE.sub(decode, iri)


def _split_escapes(text: str) -> list[str]:
    """The escapes of a run, one string per character (a UTF-8 character's bytes together)."""
    raw = bytes(int(text[i + 1:i + 3], 16) for i in range(0, len(text), 3))
    out: list[str] = []
    i = 0
    while i < len(raw):
        lead = raw[i]
        size = 1 if lead < 0x80 else 2 if lead >> 5 == 6 else 3 if lead >> 4 == 14 else 4
        out.append("".join(f"%{b:02X}" for b in raw[i:i + size]))
        i += size
    return out


def _show(report: Graph, node: Node | None) -> str:
    if node is None:
        return ""
    if isinstance(node, URIRef):
        shown = node.n3(report.namespace_manager)
        return readable_iri(shown)
    if isinstance(node, Literal):
        return node.n3(report.namespace_manager)
    return f"_:{node}"


def _existing_file(match: re.Match[str]) -> str:
    written = Path("seeds") / match.group(1)
    if written.is_file():
        return str(written)
    shipped = paths.SEEDS_DIR / match.group(1)
    return str(shipped) if shipped.is_file() else match.group(0)


def summarize(report: Graph, shapes: Graph | None = None, *, allow_warnings: bool = True,
              examples: int = EXAMPLES, full_hint: str = "") -> str:
    """The report grouped by severity, then shape, constraint and message, each group with
    its count and first ``examples`` focus nodes. ``full_hint`` says where every result is
    listed (a command or a file); it ends the text when a group was cut. Never raises."""
    groups: defaultdict[tuple[Node, str, str, str, str], list[str]] = defaultdict(list)
    for result in top_results(report):
        severity = report.value(result, SH.resultSeverity) or SH.Violation
        path = report.value(result, SH.resultPath)
        path_text = "" if path is None else _path(report, path)
        shape = report.value(result, SH.sourceShape)
        shape_text = "" if shape is None else _shape(report, shapes, shape, path_text)
        component = _show(report, report.value(result, SH.sourceConstraintComponent))
        message = "; ".join(sorted(str(m) for m in report.objects(result, SH.resultMessage)))
        message = _SEEDS_REF.sub(_existing_file, message)
        focus = _show(report, report.value(result, SH.focusNode))
        value = report.value(result, SH.value)
        if value is not None and value != report.value(result, SH.focusNode):
            focus += f" (value {_show(report, value)})"
        groups[(severity, readable_iri(shape_text), path_text, component, message)].append(focus)
    counts = {sev: sum(len(v) for k, v in groups.items() if k[0] == sev)
              for sev in SEVERITY_ORDER}
    conforms = next(report.objects(None, SH.conforms), None)
    verdict = ("conforms" if conforms is not None and str(conforms) in ("true", "1")
               else "DOES NOT CONFORM")
    lines = [
        f"Validation report: {verdict} ({counts[SH.Violation]} violations, "
        f"{counts[SH.Warning]} warnings, {counts[SH.Info]} infos).",
        "Only violations block conformance; warnings and infos are listed for review."
        if allow_warnings else "Every result, whatever its severity, blocks conformance.",
    ]
    cut = False
    severities = [*SEVERITY_ORDER, *sorted({k[0] for k in groups} - set(SEVERITY_ORDER), key=str)]
    for severity in severities:
        mine = sorted((k, v) for k, v in groups.items() if k[0] == severity)
        if not mine:
            continue
        name = _SEVERITY_NAMES.get(severity, _show(report, severity))
        lines += ["", f"{name}s ({sum(len(v) for _, v in mine)}), by shape:"]
        for (_sev, shown, along, component, message), focuses in mine:
            lines.append(f"  {len(focuses)} × {message or component or shown}")
            lines.append(f"    shape {shown}" + (f", path {along}" if along else "")
                         + (f", {component}" if component else ""))
            focuses = sorted(focuses)
            for focus in focuses[:examples]:
                lines.append(f"    {focus}")
            if len(focuses) > examples:
                cut = True
                lines.append(f"    … and {len(focuses) - examples} more")
    if cut and full_hint:
        lines += ["", f"Every result: {full_hint}."]
    return "\n".join(lines) + "\n"
