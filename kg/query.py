"""Named SPARQL queries (``queries/*.rq``): a registry, safe parameter binding, and running.

A named query is a ``.rq`` file whose leading comment lines form a header::

    # title: Twins of a place
    # description: The places twinned with one place, given by Wikidata QID,
    #   IRI or name (any language). Continuation lines are indented.
    # param: place (qid|iri|string) required — the place: Q-id, IRI or name
    # param: lang (language) = en — language of the labels

``param:`` lines read ``NAME (TYPE|TYPE...) [required | = DEFAULT] — description`` (the dash
may be ``—`` or ``--``). Types, tried in the order written:

``qid``       a Wikidata id ``Q123`` (or ``wd:Q123``), bound as ``<http://www.wikidata.org/entity/Q123>``
``iri``       an absolute IRI, optionally in ``<...>``
``string``    any text, bound as an ``xsd:string`` literal
``language``  a BCP 47 language tag, bound as an ``xsd:string`` literal (for ``langMatches``)
``langstring`` ``text@tag``, bound as a language-tagged literal
``integer`` ``decimal`` ``boolean`` ``date`` ``gYear``  bound as the XSD-typed literal

Binding never pastes the value into the query: each value is parsed into an RDF term
(pyoxigraph validates IRIs and language tags), serialised as N-Triples, and the terms are
injected as one ``VALUES (?a ?b) { (t1 t2) }`` row at the start of the query's top-level
``WHERE`` group, which binds the declared variables before the rest of the pattern. (SPARQL
evaluates nested groups, ``OPTIONAL``, ``UNION`` branches and subqueries on their own, so a
query uses its parameters in its top-level group: in a triple pattern or a ``FILTER`` there.)
A value
that parses as none of its types is refused with :class:`~kg.errors.QueryError`.
"""

from __future__ import annotations

import ast
import csv
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html import unescape
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import __version__
from kg.errors import QueryError
from kg.fsutil import check_regular_file, read_input
from kg.paths import QUERIES_DIR
from kg.sparql import outline
from kg.store import union_default_graph

__all__ = [
    "FORMATS",
    "PARAM_TYPES",
    "USER_AGENT",
    "WIKIDATA_ENTITY",
    "NamedQuery",
    "Param",
    "bind",
    "list_named",
    "load_named",
    "parse_header",
    "parse_value",
    "query_form",
    "render_table",
    "resolve",
    "run_local",
    "run_remote",
]

USER_AGENT = f"twinning-kg/{__version__} (kg query; SPARQLWrapper)"
WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
_XSD = "http://www.w3.org/2001/XMLSchema#"
#: Output formats of ``kg query``.
FORMATS = ("table", "json", "csv", "tsv", "xml", "ttl")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PARAM_LINE = re.compile(
    r"^(?P<name>\S+)\s*\((?P<types>[^)]*)\)\s*"
    r"(?:(?P<required>required)|=\s*(?P<default>.*?))?\s*"
    r"(?:(?:—|--|–)\s*(?P<description>.*))?$"
)
_QID = re.compile(r"^(?:wd:)?(Q[1-9][0-9]*)$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_DATE = re.compile(r"^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
_GYEAR = re.compile(r"^-?[0-9]{4,}$")
_LANGSTRING = re.compile(r"^(?P<text>.*)@(?P<tag>[A-Za-z0-9-]+)$", re.S)


def _parse_qid(value: str) -> ox.NamedNode:
    match = _QID.match(value.strip())
    if match is None:
        raise ValueError("not a Wikidata id (Q123)")
    return ox.NamedNode(WIKIDATA_ENTITY + match.group(1))


def _parse_iri(value: str) -> ox.NamedNode:
    text = value.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text):
        raise ValueError("not an absolute IRI")
    return ox.NamedNode(text)  # raises ValueError on any invalid code point


def _parse_string(value: str) -> ox.Literal:
    if "\x00" in value:
        raise ValueError("NUL character")
    return ox.Literal(value)


def _parse_language(value: str) -> ox.Literal:
    tag = value.strip()
    ox.Literal("", language=tag)  # validates the tag (raises ValueError)
    return ox.Literal(tag.lower())


def _parse_langstring(value: str) -> ox.Literal:
    match = _LANGSTRING.match(value)
    if match is None:
        raise ValueError("not text@language")
    return ox.Literal(match.group("text"), language=match.group("tag"))


def _typed(pattern: re.Pattern[str], datatype: str) -> Any:
    def parse(value: str) -> ox.Literal:
        text = value.strip()
        if not pattern.match(text):
            raise ValueError(f"not an xsd:{datatype}")
        return ox.Literal(text, datatype=ox.NamedNode(_XSD + datatype))

    return parse


def _parse_decimal(value: str) -> ox.Literal:
    text = value.strip()
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError("not an xsd:decimal") from exc
    if not number.is_finite() or "e" in text.lower():
        raise ValueError("not an xsd:decimal")
    return ox.Literal(text, datatype=ox.NamedNode(_XSD + "decimal"))


def _parse_boolean(value: str) -> ox.Literal:
    text = value.strip().lower()
    if text not in ("true", "false"):
        raise ValueError("not true or false")
    return ox.Literal(text, datatype=ox.NamedNode(_XSD + "boolean"))


#: Parameter types and their parsers (value text -> RDF term; ValueError if malformed).
PARAM_TYPES: dict[str, Any] = {
    "qid": _parse_qid,
    "iri": _parse_iri,
    "string": _parse_string,
    "language": _parse_language,
    "langstring": _parse_langstring,
    "integer": _typed(_INTEGER, "integer"),
    "decimal": _parse_decimal,
    "boolean": _parse_boolean,
    "date": _typed(_DATE, "date"),
    "gYear": _typed(_GYEAR, "gYear"),
}


@dataclass(frozen=True, slots=True)
class Param:
    """A declared query parameter: the variable ``?name`` it binds, the types it accepts
    (tried in order), its default (``None``: none) and whether it must be given."""

    name: str
    types: tuple[str, ...]
    default: str | None = None
    required: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class NamedQuery:
    """A query with its header: ``name`` is the file stem, ``text`` the whole file."""

    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    text: str
    path: Path | None = field(default=None, compare=False)

    def param(self, name: str) -> Param | None:
        """The declared parameter ``name``, or ``None``."""
        return next((p for p in self.params if p.name == name), None)


def parse_value(param: Param, value: str) -> ox.NamedNode | ox.Literal:
    """The RDF term for ``value`` under the first of ``param``'s types that accepts it.

    Raises :class:`QueryError` naming the parameter and its types if none does.
    """
    reasons = []
    for type_name in param.types:
        try:
            term: ox.NamedNode | ox.Literal = PARAM_TYPES[type_name](value)
        except ValueError as exc:
            reasons.append(f"{type_name}: {exc}")
            continue
        return term
    raise QueryError(
        f"parameter {param.name}={value!r} is not a valid {' or '.join(param.types)} "
        f"({'; '.join(reasons)})"
    )


def parse_header(text: str, *, path: Path | None = None, name: str = "query") -> NamedQuery:
    """Read the header comment of a query text (see the module docstring).

    A text without header is a query with no title and no parameters. Raises
    :class:`QueryError` with ``file:line`` for a malformed ``param:`` line, an unknown
    type, a duplicate parameter or a default that its types refuse.
    """
    fields: dict[str, list[str]] = {}
    params: list[Param] = []
    last: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        body = stripped[1:]
        match = re.match(r"^\s*(title|description|param)\s*:\s*(.*)$", body)
        if match:
            key, rest = match.group(1), match.group(2).strip()
            if key == "param":
                params.append(_parse_param(rest, path=path, line=lineno))
                last = None
            else:
                fields.setdefault(key, []).append(rest)
                last = key
        elif last is not None and body.startswith((" ", "\t")) and body.strip():
            # An indented line continues the previous title/description.
            fields[last].append(body.strip())
        else:
            last = None
    names = [p.name for p in params]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise QueryError(f"parameter declared twice: {', '.join(duplicates)}", path=path)
    return NamedQuery(
        name=name,
        title=" ".join(fields.get("title", [])) or name,
        description=" ".join(fields.get("description", [])),
        params=tuple(params),
        text=text,
        path=path,
    )


def _parse_param(rest: str, *, path: Path | None, line: int) -> Param:
    match = _PARAM_LINE.match(rest)
    if match is None:
        raise QueryError(
            "malformed param line (want: NAME (TYPE|...) [required | = DEFAULT] — text)",
            path=path,
            line=line,
        )
    name = match.group("name")
    if not _VAR.match(name):
        raise QueryError(f"parameter name {name!r} is not a SPARQL variable name", path=path,
                         line=line)
    types = tuple(t.strip() for t in match.group("types").split("|") if t.strip())
    unknown = [t for t in types if t not in PARAM_TYPES]
    if not types or unknown:
        raise QueryError(
            f"parameter {name}: unknown type {', '.join(unknown) or '(none)'} "
            f"(known: {', '.join(PARAM_TYPES)})",
            path=path,
            line=line,
        )
    param = Param(
        name=name,
        types=types,
        default=match.group("default"),
        required=match.group("required") is not None,
        description=(match.group("description") or "").strip(),
    )
    if param.default is not None:
        try:
            parse_value(param, param.default)
        except QueryError as exc:
            raise QueryError(f"default refused: {exc.message}", path=path, line=line) from exc
    return param


def list_named(directory: Path | None = None) -> list[NamedQuery]:
    """Every named query in ``directory`` (default ``queries/``), sorted by name.

    Raises :class:`QueryError` if the folder is missing or a header is malformed.
    """
    folder = QUERIES_DIR if directory is None else directory
    if not folder.is_dir():
        raise QueryError("no queries folder", path=folder)
    return [load_named(p.stem, directory=folder) for p in sorted(folder.glob("*.rq"))]


def load_named(name: str, *, directory: Path | None = None) -> NamedQuery:
    """The named query ``name`` (file ``NAME.rq`` in ``directory``, default ``queries/``).

    Raises :class:`QueryError` for an unknown or ill-formed name (no path tricks: names are
    ``[a-z0-9_-]``) or a malformed header.
    """
    folder = QUERIES_DIR if directory is None else directory
    if not _NAME.match(name):
        raise QueryError(f"not a query name: {name!r}")
    path = folder / f"{name}.rq"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        known = ", ".join(sorted(p.stem for p in folder.glob("*.rq")))
        raise QueryError(f"unknown named query {name!r} (known: {known})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise QueryError(f"cannot read: {exc}", path=path) from exc
    return parse_header(text, path=path, name=name)


def resolve(name_or_file: str, *, directory: Path | None = None) -> NamedQuery:
    """A named query by name, or any ``.rq``/``.sparql`` file by path (its header read the
    same way). Raises :class:`QueryError` if neither exists."""
    candidate = Path(name_or_file)
    if candidate.suffix in (".rq", ".sparql") or "/" in name_or_file:
        # Regular files only, size-limited: a FIFO or /dev/zero would block or never end.
        data = read_input(candidate, QueryError, "query file", missing="no such query file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QueryError(f"cannot read query file: {exc}", path=candidate) from exc
        return parse_header(text, path=candidate, name=candidate.stem)
    return load_named(name_or_file, directory=directory)


# --- binding ---------------------------------------------------------------------------

def query_form(text: str) -> str:
    """The query form keyword (``SELECT``, ``ASK``, ``CONSTRUCT``, ``DESCRIBE``), upper case;
    raises :class:`QueryError` if the text has none (e.g. an update)."""
    found = outline(text)
    if found.update is not None:
        raise QueryError("SPARQL Update is not a query")
    if found.form is None:
        raise QueryError("not a SPARQL query (no SELECT, ASK, CONSTRUCT or DESCRIBE)")
    return found.form


def _where_offset(text: str) -> int:
    """Offset just after the ``{`` opening the top-level WHERE group (found by the shared
    lexer, :mod:`kg.sparql`, so braces in strings, IRIs and comments never count)."""
    offset = outline(text).where_offset
    if offset is None:
        raise QueryError("cannot find the query's WHERE group to bind parameters into")
    return offset


def bind(named: NamedQuery, params: Mapping[str, str]) -> str:
    """The query text with ``params`` bound as RDF terms (see the module docstring).

    Declared defaults fill missing values; a parameter neither given nor defaulted stays
    unbound unless it is ``required``. Raises :class:`QueryError` for an undeclared or
    missing required parameter, or a value that none of its types accepts.
    """
    declared = {p.name: p for p in named.params}
    unknown = sorted(set(params) - set(declared))
    if unknown:
        known = ", ".join(declared) or "none"
        raise QueryError(
            f"query {named.name!r} has no parameter {', '.join(unknown)} (parameters: {known})"
        )
    variables: list[str] = []
    terms: list[str] = []
    for param in named.params:
        value = params.get(param.name, param.default)
        if value is None:
            if param.required:
                hint = f": {param.description}" if param.description else ""
                raise QueryError(
                    f"query {named.name!r} needs --param {param.name}=VALUE "
                    f"({'|'.join(param.types)}){hint}"
                )
            continue
        variables.append(f"?{param.name}")
        terms.append(str(parse_value(param, value)))
    if not variables:
        return named.text
    # ``$name`` (the same variable as ``?name`` in SPARQL) marks where a query wants the
    # term itself, so the engine can look it up instead of joining VALUES afterwards; the
    # term is pyoxigraph's N-Triples text of a validated value (escaped, one line).
    text = named.text
    for variable, term in zip(variables, terms, strict=True):
        pattern = rf"\${re.escape(variable[1:])}(?![A-Za-z0-9_])"
        text = re.sub(pattern, term.replace("\\", "\\\\"), text)
    offset = _where_offset(text)
    values = f"\n  VALUES ({' '.join(variables)}) {{ ({' '.join(terms)}) }}"
    return text[:offset] + values + text[offset:]


# --- running ---------------------------------------------------------------------------


def _cell(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        return f"{term.value}@{term.language}" if term.language else term.value
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


def _width(text: str) -> int:
    from kg.textwidth import display_width

    return display_width(text)


def render_table(variables: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table padded by display width (wcwidth: CJK two columns, combining
    marks none), with a final row count line."""
    widths = [_width(v) for v in variables]
    for row in rows:
        widths = [max(w, _width(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True))

    out = [line(variables), line(["-" * w for w in widths])]
    out.extend(line(row) for row in rows)
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(s.rstrip() for s in out) + "\n"


_RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
    "xml": ox.QueryResultsFormat.XML,
}
_GRAPH_FORMATS = {
    "ttl": ox.RdfFormat.TURTLE,
    "table": ox.RdfFormat.TURTLE,
    "json": ox.RdfFormat.JSON_LD,
    "xml": ox.RdfFormat.RDF_XML,
}


def run_local(text: str, store_or_graph: ox.Store | Path | Sequence[Path],
              fmt: str = "table") -> str:
    """Run ``text`` on a pyoxigraph store, or on RDF files loaded into a new in-memory
    store (TriG/N-Quads keep their graphs; the default graph is the set union of all graphs).

    ``fmt``: ``table`` (people), ``json csv tsv xml`` (SPARQL results), ``ttl`` (for
    CONSTRUCT/DESCRIBE; ``table`` and ``json``/``xml`` there give Turtle/JSON-LD/RDF/XML).
    Raises :class:`QueryError` for a syntax error, an unknown or unfitting format, an
    unreadable file, or a ``SERVICE`` endpoint that cannot be reached or fails (named).
    """
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    if isinstance(store_or_graph, ox.Store):
        store, union = store_or_graph, True
    else:
        # A file's default graph is made the set union of its graphs once (kg.store), so a
        # triple stated in two graphs counts once, as on `kg serve` and in the dumps.
        files = [store_or_graph] if isinstance(store_or_graph, Path) else store_or_graph
        store, union = _open_store(files), False
    try:
        # Solutions are computed lazily: a SERVICE call fails while they are read.
        return _answer_local(store, text, fmt, union)
    except SyntaxError as exc:
        raise QueryError(f"query syntax error: {exc}") from exc
    except OSError as exc:
        services = _SERVICE.findall(text)
        if services:
            which = "endpoint " + services[0] if len(set(services)) == 1 else (
                "endpoints " + ", ".join(dict.fromkeys(services)))
            raise QueryError(f"the SERVICE {which} cannot be reached or failed: "
                             f"{' '.join(str(exc).split())[:300]}") from exc
        raise QueryError(f"query failed: {exc}") from exc


# A SERVICE call's endpoint as written (enough to name it in a message).
_SERVICE = re.compile(r"\bSERVICE\s+(?:SILENT\s+)?<([^>\s]*)>", re.IGNORECASE)


def _answer_local(store: ox.Store, text: str, fmt: str, union: bool) -> str:
    result = store.query(text, use_default_graph_as_union=union)
    if isinstance(result, ox.QueryBoolean):
        value = bool(result)
        if fmt == "table":
            return f"{'true' if value else 'false'}\n"
        if fmt == "ttl":
            raise QueryError("--format ttl is for CONSTRUCT and DESCRIBE queries")
        return _serialize_results(result, fmt)
    if isinstance(result, ox.QueryTriples):
        graph_format = _GRAPH_FORMATS.get(fmt)
        if graph_format is None:
            raise QueryError(f"--format {fmt} is for SELECT and ASK; use ttl, json or xml")
        data = ox.serialize(list(result), format=graph_format)
        return (data or b"").decode("utf-8")
    if fmt == "ttl":
        raise QueryError("--format ttl is for CONSTRUCT and DESCRIBE queries")
    if fmt == "table":
        variables = [v.value for v in result.variables]
        rows = [[_cell(solution[v]) for v in variables] for solution in result]
        return render_table(variables, rows)
    return _serialize_results(result, fmt)


def _serialize_results(result: ox.QuerySolutions | ox.QueryBoolean, fmt: str) -> str:
    data = result.serialize(format=_RESULT_FORMATS[fmt])
    return _spreadsheet_safe((data or b"").decode("utf-8"), fmt)


def _spreadsheet_safe(text: str, fmt: str) -> str:
    """CSV and TSV results with formula-like values escaped (:mod:`kg.tabular`): they are
    opened in spreadsheets, and the values come from documents we do not control."""
    from kg.tabular import safe_sparql_csv, safe_sparql_tsv

    if fmt == "csv":
        return safe_sparql_csv(text)
    if fmt == "tsv":
        return safe_sparql_tsv(text)
    return text


def _open_store(files: Sequence[Path]) -> ox.Store:
    store = ox.Store()
    for path in files:
        fmt = ox.RdfFormat.from_extension(path.suffix.lstrip(".")) if path.suffix else None
        if fmt is None:
            raise QueryError("unknown RDF file extension", path=path)
        # A FIFO or device would block or never end: only regular files are loaded.
        check_regular_file(path, QueryError, "RDF file",
                           missing="no such file (run `kg build` first)")
        try:
            store.bulk_load(path=str(path), format=fmt)
        except FileNotFoundError as exc:
            raise QueryError("no such file (run `kg build` first)", path=path) from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise QueryError(f"cannot load: {exc}", path=path) from exc
    union_default_graph(store)
    return store


def run_remote(text: str, endpoint: str, fmt: str = "table", *, timeout: float = 60.0) -> str:
    """Run ``text`` on the SPARQL endpoint ``endpoint`` through SPARQLWrapper (POST, a
    descriptive User-Agent) and return the answer in ``fmt`` (as :func:`run_local`).

    Raises :class:`QueryError` with the endpoint and the reason if it is unreachable,
    refuses the query, or answers something unreadable.
    """
    from urllib.error import URLError

    from SPARQLWrapper import CSV, JSON, POST, TSV, TURTLE, XML, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    form = query_form(text)
    graph_form = form in ("CONSTRUCT", "DESCRIBE")
    if graph_form and fmt in ("csv", "tsv"):
        raise QueryError(f"--format {fmt} is for SELECT and ASK; use ttl, json or xml")
    if not graph_form and fmt == "ttl":
        raise QueryError("--format ttl is for CONSTRUCT and DESCRIBE queries")
    wire = {"table": JSON, "json": JSON, "csv": CSV, "tsv": TSV, "xml": XML, "ttl": TURTLE}[fmt]
    if graph_form:
        wire = {"table": TURTLE, "ttl": TURTLE, "json": "json-ld", "xml": XML}[fmt]
    client = SPARQLWrapper(endpoint, agent=USER_AGENT)
    client.setMethod(POST)
    client.setTimeout(int(timeout))
    client.setQuery(text)
    client.setReturnFormat(wire)
    try:
        response = client.query().response
        body: bytes = response.read()
    except SPARQLWrapperException as exc:
        raise QueryError(f"{endpoint} refused the query: {_refusal(exc)}") from exc
    except URLError as exc:
        raise QueryError(f"cannot reach {endpoint}: {exc.reason}") from exc
    except (OSError, ValueError) as exc:
        raise QueryError(f"cannot query {endpoint}: {exc}") from exc
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise QueryError(f"{endpoint} answered non-UTF-8 bytes") from exc
    if fmt in ("csv", "tsv"):
        try:
            return _spreadsheet_safe(decoded, fmt)
        except csv.Error as exc:
            raise QueryError(f"{endpoint} answered something else than SPARQL CSV") from exc
    if fmt != "table" or graph_form:
        return decoded
    try:
        answer = json.loads(decoded)
    except json.JSONDecodeError as exc:
        raise QueryError(f"{endpoint} answered something else than SPARQL JSON") from exc
    if "boolean" in answer:
        return f"{'true' if answer['boolean'] else 'false'}\n"
    try:
        variables = list(answer["head"]["vars"])
        rows = [[_json_cell(b.get(v)) for v in variables] for b in answer["results"]["bindings"]]
    except (KeyError, TypeError, AttributeError) as exc:
        raise QueryError(f"{endpoint} answered malformed SPARQL JSON results") from exc
    return render_table(variables, rows)


def _refusal(exc: Exception) -> str:
    """The server's own words for a refused query: SPARQLWrapper wraps them in its guess
    ("probably the SPARQL query is badly formed") and a bytes repr."""
    head, sep, body = str(exc).partition("\n\nResponse:\n")
    detail = ""
    if sep:
        try:
            raw = ast.literal_eval(body.strip())
        except (ValueError, SyntaxError):
            raw = body
        detail = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        detail = " ".join(unescape(re.sub(r"<[^>]+>", " ", detail)).split())
    code = getattr(exc.__context__, "code", None)
    status = f"HTTP {code}" if isinstance(code, int) else type(exc).__name__
    if not detail:
        detail = " ".join(head.partition(": ")[2].split()) or type(exc).__name__
    return f"{status}: {detail}"[:400]


def _json_cell(binding: Mapping[str, str] | None) -> str:
    if binding is None:
        return ""
    value = str(binding.get("value", ""))
    if binding.get("type") == "bnode":
        return f"_:{value}"
    lang = binding.get("xml:lang")
    return f"{value}@{lang}" if lang else value

