"""One linear-time SPARQL lexer, and the outline of a query that the rest of ``kg`` needs.

:func:`tokenize` splits a query into tokens — comments, strings (long ``'''``/``\"\"\"``
strings too), IRIs, variables, prefixed names, blank node labels, numbers, words and
punctuation (brackets one by one, other punctuation in runs) — so that a keyword, brace
or bracket inside a string, an IRI or a comment never counts. :func:`outline` reads the
tokens once and reports what :mod:`kg.query` (where to bind parameters, the query form)
and :mod:`kg.serve.protocol` (``SERVICE`` targets, dataset clauses, nesting depth, the
top-level ``LIMIT``) need.

It is not a parser (the store's parser judges validity); it is written so that its cost
is linear in the length of any input, hostile or not. Python's ``re`` backtracks, so each
token pattern is built to never fail after scanning far: a string that is not closed runs
to the end of its line (or, for a long string, of the text) instead of failing, and the
pattern for words is the prefix of the pattern for prefixed names, so a word that is not
a prefixed name is consumed whole by the next alternative. We wrote it rather than use a
SPARQL parser library because the Python ones (rdflib's pyparsing grammar) are far slower
and the fast ones (Oxigraph's) do not expose tokens or nesting.

>>> [t.text for t in tokenize("SELECT * { ?s <p> 'a }' } # }")]
['SELECT', '*', '{', '?s', '<p>', "'a }'", '}']
>>> outline("ASK { { FILTER((1)) } }").depth
4
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

__all__ = ["QUERY_FORMS", "UPDATE_WORDS", "Outline", "Token", "outline", "tokenize"]

#: The four query form keywords.
QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
#: Keywords that start a SPARQL Update operation.
UPDATE_WORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY",
                "WITH")

# PN_PREFIX-like run: a letter, then letters, digits, '_', '-', '.', not ending with '.'.
_NAME = r"[^\W\d_](?:[\w.\-]*[\w\-])?"
_TOKEN = re.compile(
    r"""\s*(?:(?P<comment>\#[^\n\r]*)
    |(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    |(?P<string>'''(?:[^'\\]|\\[\s\S]?|'(?!''))*(?:'''|\Z)
               |\"\"\"(?:[^"\\]|\\[\s\S]?|"(?!""))*(?:\"\"\"|\Z)
               |'(?:[^'\\\n\r]|\\[^\n\r]?)*'?
               |"(?:[^"\\\n\r]|\\[^\n\r]?)*"?)
    |(?P<var>[?$]\w+)
    |(?P<bnode>_:\w(?:[\w.\-]*[\w\-])?)
    |(?P<pname>(?:""" + _NAME + r""")?:(?:[\w:%\-]|\\[^\s]|\.(?=[\w:%\-]))*)
    |(?P<word>""" + _NAME + r""")
    |(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    |(?P<punct>[{}()\[\]]|[^\w\s\#<'"?$:{}()\[\]]+|[\s\S])|(?P<ws>\Z))""",
    re.X,
)
_OPEN = frozenset("{([")
_CLOSE = frozenset("})]")


@dataclass(frozen=True, slots=True)
class Token:
    """A token: its ``kind`` (a group name of the lexer: ``iri``, ``string``, ``var``,
    ``bnode``, ``pname``, ``word``, ``number``, ``punct``, and ``comment`` when asked for),
    its text and its offsets in the query."""

    kind: str
    text: str
    start: int
    end: int


def tokenize(text: str, *, comments: bool = False) -> Iterator[Token]:
    """The tokens of ``text`` in order, without white space (and without comments unless
    ``comments``). Never raises: any character is at worst a ``punct`` token."""
    for kind, value, start, end in _scan(text, comments=comments):
        yield Token(kind, value, start, end)


def _scan(text: str, *, comments: bool = False) -> Iterator[tuple[str, str, int, int]]:
    # Each match is white space then one token; the token is the match's last group.
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "ws"
        if kind == "ws" or (kind == "comment" and not comments):
            continue
        yield kind, match.group(kind), match.start(kind), match.end(kind)


@dataclass(frozen=True, slots=True)
class Outline:
    """What :func:`outline` found in a query.

    ``form``: the first query form keyword (upper case) or ``None``; ``update``: the first
    SPARQL Update keyword if it comes before any query form; ``where_offset``: the offset
    just after the ``{`` that opens the top-level WHERE group (``None``: not found);
    ``services``: ``SERVICE`` targets resolved against ``BASE``/``PREFIX`` (``None`` for a
    variable or an unknown prefix); ``has_dataset``: a ``FROM``/``FROM NAMED`` clause;
    ``depth``: the deepest nesting of ``{ ( [``; ``limit``: the top-level ``LIMIT`` value
    and the offsets of its number (``None``: no top-level LIMIT); ``values_offset``: the
    offset of a top-level trailing ``VALUES`` clause (``None``: none).
    """

    form: str | None
    update: str | None
    where_offset: int | None
    services: tuple[str | None, ...]
    has_dataset: bool
    depth: int
    limit: tuple[int, int, int] | None
    values_offset: int | None


def outline(text: str) -> Outline:
    """Read ``text`` once (see :class:`Outline`). Linear in its length; never raises."""
    tokens = list(_scan(text))
    form: str | None = None
    update: str | None = None
    where_offset: int | None = None
    template = False  # inside CONSTRUCT, before its template
    braces = 0
    nesting = 0  # braces, parentheses and brackets together
    parens = 0  # parentheses and brackets outside braces: (EXISTS { } AS ?x) is no group
    depth = 0
    base = ""
    prefixes: dict[str, str] = {}
    services: list[str | None] = []
    has_dataset = False
    limit: tuple[int, int, int] | None = None
    values_offset: int | None = None
    for index, (kind, value, start, end) in enumerate(tokens):
        if kind == "punct":
            if value in _OPEN:
                nesting += 1
                depth = max(depth, nesting)
                if value == "{":
                    if (braces == 0 and parens == 0 and form is not None
                            and where_offset is None):
                        if template:
                            template = False  # CONSTRUCT { template } [WHERE] { group }
                        else:
                            where_offset = end
                    braces += 1
                elif braces == 0:
                    parens += 1
            elif value in _CLOSE:
                nesting = max(nesting - 1, 0)
                if value == "}":
                    braces = max(braces - 1, 0)
                elif braces == 0:
                    parens = max(parens - 1, 0)
            continue
        if kind != "word":
            continue
        keyword = value.upper()
        following = tokens[index + 1: index + 4]
        if form is None and update is None:
            if keyword in QUERY_FORMS:
                form = keyword
                template = keyword == "CONSTRUCT"
            elif keyword in UPDATE_WORDS:
                update = keyword
        if keyword == "WHERE" and braces == 0:
            template = False
        elif keyword == "BASE" and following and following[0][0] == "iri":
            base = urljoin(base, following[0][1][1:-1])
        elif (keyword == "PREFIX" and len(following) >= 2 and following[0][0] == "pname"
              and following[1][0] == "iri"):
            prefixes[following[0][1][:-1]] = urljoin(base, following[1][1][1:-1])
        elif keyword == "FROM":
            has_dataset = True
        elif keyword == "SERVICE":
            services.append(_service_target(following, base, prefixes))
        elif braces == 0 and parens == 0 and where_offset is not None:
            if (keyword == "LIMIT" and following and following[0][0] == "number"
                    and following[0][1].isdigit()):
                _, digits, first, last = following[0]
                limit = (int(digits), first, last)
            elif keyword == "VALUES" and values_offset is None:
                values_offset = start
    return Outline(form, update, where_offset, tuple(services), has_dataset, depth, limit,
                   values_offset)


def _service_target(following: list[tuple[str, str, int, int]], base: str,
                    prefixes: dict[str, str]) -> str | None:
    if following and following[0][0] == "word" and following[0][1].upper() == "SILENT":
        following = following[1:]
    if following and following[0][0] == "iri":
        return urljoin(base, following[0][1][1:-1])
    if following and following[0][0] == "pname":
        prefix, _, local = following[0][1].partition(":")
        if prefix in prefixes:
            return prefixes[prefix] + local
    return None
