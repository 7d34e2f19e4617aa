"""Synthetic sources for the scale benchmark: N twinnings in the zh.wikipedia document's own
format, and a links table that resolves every place they name.

:func:`generate` writes, into a folder of its own,

* ``zhwiki-synthetic.md``: sections (``## …``) holding HTML tables (three cells, no country
  column, continuation rows whose third cell is empty) and Markdown pipe tables
  (``| 〖[cn]〗- | | <small>[country][partner]（date） |``, an empty first cell continuing the
  Chinese place above), with dates at day, month and year precision, rows without a date and
  agreement-kind notes, in the proportions of the real page;
* ``wikidata-links-synthetic.tsv``: one row per place reference, as ``kg reconcile`` writes
  it; about 3 % of partners are left unresolved with candidates, as in the real table;
* ``SYNTHETIC.txt``: what the folder is.

Every QID it writes is **synthetic**: ``Q9000000000`` and up (Chinese places from
``Q9000000000``, partners from ``Q9100000000``, countries from ``Q9200000000``), far past any
Wikidata item, with ``synthetic`` as method and evidence. They are not Wikidata items, so
the generator refuses to write into ``seeds/`` or over files it did not make; the real
links table never sees them.

The output is a function of ``(n, seed)`` only. The parser accepts every row (no rejection,
no warning), so ``kg build --seeds DIR/zhwiki-synthetic.md --links DIR/…tsv`` builds N
twinnings.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from kg import paths
from kg.errors import KGError
from kg.model import LinkRow
from kg.reconcile.links import write_links

__all__ = [
    "DOCUMENT",
    "LINKS",
    "MARKER",
    "SYNTHETIC_QID_BASE",
    "SyntheticError",
    "SyntheticSources",
    "generate",
    "is_synthetic_qid",
]

#: File names written by :func:`generate`.
DOCUMENT = "zhwiki-synthetic.md"
LINKS = "wikidata-links-synthetic.tsv"
MARKER = "SYNTHETIC.txt"

#: The first synthetic QID number; every QID the generator writes is at least this.
SYNTHETIC_QID_BASE = 9_000_000_000
_CN_BASE = SYNTHETIC_QID_BASE
_PARTNER_BASE = SYNTHETIC_QID_BASE + 100_000_000
_COUNTRY_BASE = SYNTHETIC_QID_BASE + 200_000_000

# Traditional-script characters (each differs from its Simplified form), so the labels
# exercise the Chinese script detection as real names do.
_DIGITS = "東西華陽寧豐興龍鳳雲關門長樂義寶廣貴湯滿"
_TWINNINGS_PER_CN = 8
_CN_PER_SECTION = 40
_COUNTRIES = 150
_NOTES = ("友好協議", "友好協約書", "文化備忘錄")
_EVIDENCE = "synthetic: not a Wikidata item (kg.synthetic, seed {seed})"


class SyntheticError(KGError):
    """The synthetic sources cannot be written (a bad count or an output folder in use)."""


@dataclass(frozen=True)
class SyntheticSources:
    """The files :func:`generate` wrote and what they hold."""

    folder: Path
    document: Path
    links: Path
    twinnings: int
    places: int


def is_synthetic_qid(qid: str) -> bool:
    """True for a QID in the synthetic range (``Q9000000000`` and up).

    >>> is_synthetic_qid("Q9100000007"), is_synthetic_qid("Q956")
    (True, False)
    """
    return qid.startswith("Q") and qid[1:].isdigit() and int(qid[1:]) >= SYNTHETIC_QID_BASE


def _name(index: int, suffix: str) -> str:
    digits = []
    for _ in range(4):
        index, rest = divmod(index, len(_DIGITS))
        digits.append(_DIGITS[rest])
    if index:
        digits.append(str(index))
    return "".join(reversed(digits)) + suffix


def _date(rng: random.Random) -> str:
    year = rng.randint(1973, 2024)
    roll = rng.random()
    if roll < 0.05:
        return ""
    if roll < 0.15:
        return f"{year}年"
    if roll < 0.30:
        return f"{year}年{rng.randint(1, 12)}月"
    return f"{year}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"


def _md_link(title: str) -> str:
    return f'[{title}](../Page/{title}.md "wikilink")'


def _html_link(title: str) -> str:
    return f'<a href="../Page/{title}.md" title="wikilink">{title}</a>'


def _check_folder(folder: Path) -> None:
    seeds = paths.SEEDS_DIR.resolve()
    where = folder.resolve()
    if where == seeds or seeds in where.parents:
        raise SyntheticError("synthetic sources never go into seeds/", path=folder)
    if folder.exists() and not folder.is_dir():
        raise SyntheticError("not a folder", path=folder)
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).is_file():
        raise SyntheticError(
            f"folder is not empty and holds no {MARKER}: not written by the generator",
            path=folder,
        )


def generate(n: int, folder: Path, *, seed: int = 0) -> SyntheticSources:
    """Write N synthetic twinnings and their links table into ``folder``.

    ``folder`` must be empty, missing, or a folder this function wrote before (it holds
    ``SYNTHETIC.txt``); its three files are then replaced. The same ``(n, seed)`` gives the
    same bytes. Raises :class:`SyntheticError` for ``n < 1``, a folder under ``seeds/`` or a
    folder holding other files.
    """
    if n < 1:
        raise SyntheticError(f"the number of twinnings must be at least 1, not {n}")
    folder = Path(folder)
    _check_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    n_partners = max(2, n // 3)
    countries = [_name(k, "國") for k in range(min(_COUNTRIES, n_partners))]

    def partner_country(j: int) -> int:
        return j % len(countries)

    intro = "此列表為基準測試合成（synthetic），不是真實的" + _md_link("友好城市") + "。"
    lines = [intro, ""]
    # Partners named in HTML rows (no country given) and in pipe rows (with their country)
    # are distinct place references of the links table.
    in_html: set[int] = set()
    in_pipe: set[int] = set()
    made = 0
    section = 0
    cn = 0
    while made < n:
        html = section % 5 == 0
        lines += [f"## {_name(section, '省')}", ""]
        if html:
            lines += ["<table>", "<tbody>"]
        else:
            lines += ["|  |  |", "| -: | - |"]
        for _ in range(_CN_PER_SECTION):
            if made >= n:
                break
            cn_title = _name(cn, "市")
            count = min(_TWINNINGS_PER_CN, n - made)
            partners = rng.sample(range(n_partners), count) if count <= n_partners else [
                rng.randrange(n_partners) for _ in range(count)
            ]
            for k, j in enumerate(partners):
                p_title = _name(j, "城")
                date = _date(rng)
                note = f"（{_NOTES[rng.randrange(3)]}）" if rng.random() < 0.03 else ""
                if html:
                    in_html.add(j)
                    parity = "odd" if (made % 2 == 0) else "even"
                    when = f"<p>{date}</p>" if date else ""
                    cells = [f"<p>{_html_link(p_title)}{note}</p>", when]
                    if k == 0:
                        cells = [f"<p>{_html_link(cn_title)}</p>", *cells]
                        if not cells[2]:
                            # A first row with an empty date cell would read as a continuation.
                            cells[2] = "<p>（友好協議）</p>"
                    else:
                        cells.append("")
                    lines.append(f'<tr class="{parity}">')
                    lines += [f"<td>{c}</td>" for c in cells]
                    lines.append("</tr>")
                else:
                    in_pipe.add(j)
                    first = f"〖{_md_link(cn_title)}〗-" if k == 0 else ""
                    country = countries[partner_country(j)]
                    when = f"（{date}）" if date else ""
                    lines.append(
                        f"| {first} | | <small>{_md_link(country)}{_md_link(p_title)}{when}{note} |"
                    )
                made += 1
            cn += 1
        if html:
            lines += ["</tbody>", "</table>"]
        lines.append("")
        section += 1
    category = "https://zh.wikipedia.org/wiki/Category:基準測試"
    lines.append(f'[Category:基準測試]({category} "wikilink")')

    evidence = _EVIDENCE.format(seed=seed)
    rows: list[LinkRow] = []

    def row(role: str, key: str, country: str, qid: str, kind: str, label: str,
            country_qid: str = "") -> None:
        status = "resolved" if qid else "unresolved"
        rows.append(LinkRow(
            doc="zhwiki", role=role, key=key, country=country,  # type: ignore[arg-type]
            qid=qid, status=status, method="synthetic" if qid else "", score="1.00",
            kind=kind, label_en=label if qid else "", country_qid=country_qid,
            evidence=evidence if qid else "",
            candidates=f"{qid}:1.00" if qid else f"Q{_PARTNER_BASE}:0.40",
            reason="" if qid else "synthetic: left unresolved on purpose",
        ))

    # The Chinese side's country: a synthetic one the document names (the real PRC node is
    # named by the League's list, which a synthetic build does not read).
    pipe_countries = {partner_country(i) for i in in_pipe}
    cn_country = f"Q{_COUNTRY_BASE + min(pipe_countries)}" if pipe_countries else ""
    for i in range(cn):
        row("cn", _name(i, "市"), "", f"Q{_CN_BASE + i}", "city", f"Synthetic City {i}",
            cn_country)
    for k, title in enumerate(countries):
        row("country", title, "", f"Q{_COUNTRY_BASE + k}", "country", f"Synthetic Country {k}",
            f"Q{_COUNTRY_BASE + k}")
    for refs, with_country in ((in_html, False), (in_pipe, True)):
        for j in sorted(refs):
            c = partner_country(j)
            qid = f"Q{_PARTNER_BASE + j}" if rng.random() >= 0.03 else ""
            # A country the document never names would be a place without tw:namedIn.
            named = with_country or c in pipe_countries
            row("partner", _name(j, "城"), countries[c] if with_country else "", qid, "city",
                f"Synthetic Partner {j}", f"Q{_COUNTRY_BASE + c}" if named else "")
    if any(r.qid and not is_synthetic_qid(r.qid) for r in rows):  # pragma: no cover
        raise SyntheticError("internal error: a non-synthetic QID was generated")

    (folder / MARKER).write_text(
        "Synthetic sources written by kg.synthetic (kg bench --synthetic) for benchmarks.\n"
        f"twinnings: {n}; seed: {seed}.\n"
        f"Every QID here is synthetic (Q{SYNTHETIC_QID_BASE} and up): not Wikidata items.\n"
        "Never copy these rows into seeds/wikidata-links.tsv.\n",
        encoding="utf-8",
    )
    document = folder / DOCUMENT
    document.write_text("\n".join(lines) + "\n", encoding="utf-8")
    links = folder / LINKS
    write_links(rows, links)
    return SyntheticSources(
        folder=folder, document=document, links=links, twinnings=n, places=len(rows)
    )
