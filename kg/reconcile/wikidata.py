"""The live Wikidata client: Action API (``wbgetentities``, ``wbsearchentities``) and WDQS.

Used only by ``kg reconcile --online``; ``kg build`` never touches the network.

What it does, and how it follows Wikimedia's API etiquette:

* every request carries a descriptive ``User-Agent`` (Wikimedia User-Agent policy), for
  ``requests`` and for SPARQLWrapper alike;
* every Action API request carries ``maxlag`` (default 5 s), ``format=json`` and
  ``formatversion=2``; the parser reads the formatversion-2 shape only;
* ids and titles go in batches of at most 50 (the API limit for ordinary clients);
* HTTP 429, HTTP 5xx, a ``maxlag`` error, a timeout or a broken connection are retried up to
  ``max_retries`` times with exponential backoff (1, 2, 4 … s), honouring ``Retry-After``;
  every wait is capped at ``max_wait`` seconds. The sleep function is injectable;
* every successful answer is stored in a persistent on-disk cache (one JSON file per request
  under ``cache_dir``, keyed by the SHA-256 of the endpoint and its parameters), so a rerun
  asks nothing twice. A cache entry that cannot be read or parsed is **ignored, logged as a
  warning and refetched** (then overwritten): a cache is an optimisation, never a source of
  truth. A cache folder that cannot be written is a :class:`~kg.errors.WikidataError`.

Every failure is a :class:`~kg.errors.WikidataError` whose one-line message names the URL
and what went wrong (timeout, HTTP status after retries, malformed JSON, API error code).

Title lookups (``entities_by_zhwiki_titles``): Wikibase allows ``normalize=1`` only with
exactly one site and one title (``params-illegal`` otherwise), so titles are first looked up
exactly in batches of 50, and each title not found that way is asked again alone with
``normalize=1``; the server then normalises it on zh.wikipedia (underscores, first letter,
page redirects) and reports ``normalized: {"n": {"from": …, "to": …}}``. Item redirects
(``redirects=yes``) are followed by the server; the answer is keyed by the id asked for and
carries the target's ``id``.

Provenance: each answer is recorded as an :class:`Evidence` (endpoint, request, retrieval
time in UTC, whether it came from the cache). Callers put ``str(evidence)`` in the
``evidence`` column of the links table; see :meth:`WikidataClient.evidence`,
:meth:`WikidataClient.title_evidence`, :meth:`WikidataClient.search_evidence` and
:meth:`WikidataClient.twinned_evidence`.

Against the real services (the defaults)::

    client = WikidataClient(cache_dir=Path(".cache/wikidata"))
    client.entities_by_zhwiki_titles(["京都市"])
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import re
import time
import unicodedata
import urllib.error
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from SPARQLWrapper import JSON, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from kg import __version__
from kg.errors import WikidataError
from kg.fsutil import atomic_write_text

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_API_URL",
    "DEFAULT_SPARQL_URL",
    "DEFAULT_USER_AGENT",
    "ENTITY_IRI",
    "LANGUAGES",
    "Entity",
    "Evidence",
    "WikidataClient",
]

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://www.wikidata.org/w/api.php"
DEFAULT_SPARQL_URL = "https://query.wikidata.org/sparql"
# Wikimedia's User-Agent policy: name/version, then a way to reach the operator.
DEFAULT_USER_AGENT = (
    f"twinning-kg/{__version__} "
    "(https://example.org/twinning-kg; twinning-kg@example.org) "
    f"python-requests/{requests.__version__}"
)
ENTITY_IRI = "http://www.wikidata.org/entity/"
BATCH_SIZE = 50
LANGUAGES = ("en", "ja", "zh", "zh-hans", "zh-hant")
_PROPS = "labels|aliases|claims|sitelinks"
_QID = re.compile(r"Q[1-9][0-9]*")
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_CACHE_VERSION = 1


@dataclass(frozen=True)
class Entity:
    """The parts of a Wikidata item that reconciliation uses.

    ``labels`` and ``aliases`` are keyed by language code (only :data:`LANGUAGES`).
    ``instance_of`` (P31), ``country`` (P17) and ``located_in`` (P131) hold item QIDs of the
    non-deprecated statements, preferred ones first, without duplicates. ``coord`` is
    ``(latitude, longitude)`` of the best P625 statement, ``zhwiki_title`` the zh.wikipedia
    sitelink.
    """

    qid: str
    labels: dict[str, str]
    aliases: dict[str, tuple[str, ...]]
    instance_of: tuple[str, ...]
    country: tuple[str, ...]
    located_in: tuple[str, ...]
    coord: tuple[float, float] | None
    zhwiki_title: str | None


@dataclass(frozen=True)
class Evidence:
    """Where an answer came from: endpoint, request, and when Wikidata gave it.

    ``retrieved`` is the UTC time (ISO 8601, seconds) of the live answer; an answer served
    from the cache keeps the time of its original retrieval and has ``cached=True``.
    ``str(evidence)`` is a one-line text without tabs, for the links table's evidence column,
    e.g. ``wikidata https://www.wikidata.org/w/api.php?action=wbgetentities&ids=Q1 retrieved
    2026-11-23T12:00:00Z``.
    """

    endpoint: str
    request: str
    retrieved: str
    cached: bool = False

    @property
    def url(self) -> str:
        """The full request URL (Action API) or the endpoint (SPARQL)."""
        return f"{self.endpoint}?{self.request}" if self.request else self.endpoint

    def __str__(self) -> str:
        text = f"wikidata {self.url} retrieved {self.retrieved}"
        return " ".join(text.split())


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _batches(items: Sequence[str], size: int = BATCH_SIZE) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date), or ``None``."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _Retry(Exception):
    """Internal: a transient failure worth another attempt."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _values(statements: Any) -> Iterator[tuple[bool, Any]]:
    """``(preferred, value)`` of each non-deprecated value statement of a formatversion-2
    statement list, in order; anything malformed is skipped."""
    for statement in statements if isinstance(statements, list) else []:
        if not isinstance(statement, dict) or statement.get("rank") == "deprecated":
            continue
        snak = statement.get("mainsnak")
        if not isinstance(snak, dict) or snak.get("snaktype") != "value":
            continue
        yield statement.get("rank") == "preferred", (snak.get("datavalue") or {}).get("value")


def _item_ids(statements: Any) -> tuple[str, ...]:
    """Item QIDs of a formatversion-2 statement list: non-deprecated, preferred first."""
    preferred: list[str] = []
    normal: list[str] = []
    for is_preferred, value in _values(statements):
        qid = value.get("id") if isinstance(value, dict) else None
        if isinstance(qid, str) and _QID.fullmatch(qid):
            (preferred if is_preferred else normal).append(qid)
    return tuple(dict.fromkeys(preferred + normal))


def _coordinate(statements: Any) -> tuple[float, float] | None:
    """``(lat, lon)`` of the best non-deprecated P625 value statement, or ``None``."""
    best: tuple[float, float] | None = None
    for is_preferred, value in _values(statements):
        if not isinstance(value, dict):
            continue
        lat, lon = value.get("latitude"), value.get("longitude")
        if not isinstance(lat, int | float) or not isinstance(lon, int | float):
            continue
        if is_preferred:
            return (float(lat), float(lon))
        if best is None:
            best = (float(lat), float(lon))
    return best


def _parse_entity(data: Mapping[str, Any], url: str) -> Entity:
    """An :class:`Entity` from one formatversion-2 ``wbgetentities`` entity object.

    Raises :class:`WikidataError` when the object has no valid item id.
    """
    qid = data.get("id")
    if not isinstance(qid, str) or not _QID.fullmatch(qid):
        raise WikidataError(f"{url}: malformed answer: entity without a valid item id: {qid!r}")
    labels: dict[str, str] = {}
    raw_labels = data.get("labels")
    if isinstance(raw_labels, dict):
        for lang, label in raw_labels.items():
            if lang in LANGUAGES and isinstance(label, dict):
                value = label.get("value")
                if isinstance(value, str):
                    labels[lang] = value
    aliases: dict[str, tuple[str, ...]] = {}
    raw_aliases = data.get("aliases")
    if isinstance(raw_aliases, dict):
        for lang, entries in raw_aliases.items():
            if lang in LANGUAGES and isinstance(entries, list):
                values = tuple(
                    e["value"]
                    for e in entries
                    if isinstance(e, dict) and isinstance(e.get("value"), str)
                )
                if values:
                    aliases[lang] = values
    claims = data.get("claims")
    claims = claims if isinstance(claims, dict) else {}
    sitelinks = data.get("sitelinks")
    zhwiki = sitelinks.get("zhwiki") if isinstance(sitelinks, dict) else None
    title = zhwiki.get("title") if isinstance(zhwiki, dict) else None
    return Entity(
        qid=qid,
        labels=labels,
        aliases=aliases,
        instance_of=_item_ids(claims.get("P31")),
        country=_item_ids(claims.get("P17")),
        located_in=_item_ids(claims.get("P131")),
        coord=_coordinate(claims.get("P625")),
        zhwiki_title=title if isinstance(title, str) else None,
    )


def _is_missing(data: Mapping[str, Any]) -> bool:
    # formatversion=2 keeps Wikibase's `"missing": ""`; accept a boolean too.
    return "missing" in data and data["missing"] is not False


def _title_key(title: str) -> str:
    # Wikibase trims and NFC-normalises a title before the exact sitelink lookup.
    return unicodedata.normalize("NFC", title.strip())


class WikidataClient:
    """A polite, caching client for the Wikidata Action API and query service.

    Parameters (keyword-only): ``api_url`` and ``sparql_url`` are the base URLs (point them
    at a mirror or a test server); ``cache_dir`` enables the persistent cache; ``user_agent``
    is sent on every request; ``timeout`` is per request in seconds; ``max_retries`` is the
    number of retries after the first attempt; ``maxlag`` is sent to the Action API;
    ``session`` is a ``requests.Session`` to reuse. ``sleep`` (default :func:`time.sleep`)
    and ``max_wait`` (cap of one wait, seconds) exist for tests and impatient users.

    Every public method raises :class:`~kg.errors.WikidataError` on any failure.
    """

    def __init__(
        self,
        *,
        api_url: str = DEFAULT_API_URL,
        sparql_url: str = DEFAULT_SPARQL_URL,
        cache_dir: Path | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float = 30.0,
        max_retries: int = 5,
        maxlag: int = 5,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 60.0,
    ) -> None:
        self.api_url = api_url
        self.sparql_url = sparql_url
        self.cache_dir = cache_dir
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.maxlag = maxlag
        self.session = session if session is not None else requests.Session()
        self.sleep = sleep
        self.max_wait = max_wait
        self._entity_evidence: dict[str, Evidence] = {}
        self._title_evidence: dict[str, Evidence] = {}
        self._search_evidence: dict[tuple[str, str], Evidence] = {}
        self._twin_evidence: dict[str, Evidence] = {}

    # ---- provenance -------------------------------------------------------------------

    def evidence(self, qid: str) -> Evidence | None:
        """The answer that last gave entity data for ``qid`` (asked by id or by title)."""
        return self._entity_evidence.get(qid)

    def title_evidence(self, title: str) -> Evidence | None:
        """The answer that resolved (or failed to resolve) zh.wikipedia ``title``."""
        return self._title_evidence.get(title)

    def search_evidence(self, name: str, language: str) -> Evidence | None:
        """The ``wbsearchentities`` answer for ``name`` in ``language``."""
        return self._search_evidence.get((name, language))

    def twinned_evidence(self, qid: str) -> Evidence | None:
        """The query-service answer that gave the P190 statements of ``qid``."""
        return self._twin_evidence.get(qid)

    # ---- public API -------------------------------------------------------------------

    def entities_by_zhwiki_titles(self, titles: Sequence[str]) -> dict[str, Entity | None]:
        """Resolve zh.wikipedia article titles exactly through their Wikidata sitelinks.

        Returns one entry per distinct input title: its item, or ``None`` when no item links
        that page (even after normalisation and page redirects). Raises
        :class:`~kg.errors.WikidataError` on any failure.
        """
        result: dict[str, Entity | None] = {}
        pending: list[str] = []
        for title in _unique(titles):
            if _title_key(title):
                pending.append(title)
            else:
                result[title] = None
        misses: list[str] = []
        for batch in _batches(pending):
            params = {
                "action": "wbgetentities",
                "sites": "zhwiki",
                "titles": "|".join(_title_key(t) for t in batch),
                "redirects": "yes",
                "props": _PROPS,
                "languages": "|".join(LANGUAGES),
            }
            data, evidence = self._api(params)
            by_title: dict[str, Entity] = {}
            for entity in self._entities(data, evidence):
                if entity.zhwiki_title is not None:
                    by_title[_title_key(entity.zhwiki_title)] = entity
            for title in batch:
                found = by_title.get(_title_key(title))
                if found is None:
                    misses.append(title)
                else:
                    result[title] = found
                    self._title_evidence[title] = evidence
        for title in misses:
            # normalize=1 is only allowed with a single title (Wikibase `params-illegal`).
            params = {
                "action": "wbgetentities",
                "sites": "zhwiki",
                "titles": _title_key(title),
                "redirects": "yes",
                "normalize": "1",
                "props": _PROPS,
                "languages": "|".join(LANGUAGES),
            }
            data, evidence = self._api(params)
            entities = self._entities(data, evidence)
            result[title] = entities[0] if entities else None
            self._title_evidence[title] = evidence
        return {title: result[title] for title in _unique(titles)}

    def search(self, name: str, language: str, limit: int = 10) -> list[str]:
        """QIDs that ``wbsearchentities`` finds for ``name`` in ``language``, in rank order.

        Only items (``type=item``); at most ``limit`` (1–50). Raises
        :class:`~kg.errors.WikidataError` on any failure.
        """
        params = {
            "action": "wbsearchentities",
            "search": name,
            "language": language,
            "uselang": language,
            "type": "item",
            "limit": str(max(1, min(50, limit))),
        }
        data, evidence = self._api(params)
        hits = data.get("search")
        if not isinstance(hits, list):
            raise WikidataError(f"{evidence.url}: malformed answer: no 'search' list")
        qids: list[str] = []
        for hit in hits:
            qid = hit.get("id") if isinstance(hit, dict) else None
            if isinstance(qid, str) and _QID.fullmatch(qid) and qid not in qids:
                qids.append(qid)
        self._search_evidence[(name, language)] = evidence
        return qids[:limit]

    def get_entities(self, qids: Sequence[str]) -> dict[str, Entity]:
        """Items by QID, in batches of 50, keyed by the QID asked for.

        A redirected QID maps to its target's entity (whose ``qid`` differs); a missing or
        deleted QID is left out. Raises :class:`~kg.errors.WikidataError` on any failure or
        on a malformed QID.
        """
        wanted = _unique(qids)
        for qid in wanted:
            if not _QID.fullmatch(qid):
                raise WikidataError(f"malformed QID {qid!r}: expected Q followed by digits")
        result: dict[str, Entity] = {}
        for batch in _batches(wanted):
            params = {
                "action": "wbgetentities",
                "ids": "|".join(batch),
                "redirects": "yes",
                "props": _PROPS,
                "languages": "|".join(LANGUAGES),
            }
            data, evidence = self._api(params)
            entities = data.get("entities")
            if not isinstance(entities, dict):
                raise WikidataError(f"{evidence.url}: malformed answer: no 'entities' object")
            for qid in batch:
                raw = entities.get(qid)
                if not isinstance(raw, dict) or _is_missing(raw):
                    continue
                entity = _parse_entity(raw, evidence.url)
                result[qid] = entity
                self._entity_evidence[qid] = evidence
                self._entity_evidence[entity.qid] = evidence
        return result

    def twinned_with(self, qids: Sequence[str]) -> dict[str, set[str]]:
        """P190 (twinned administrative body) targets of each item, from the query service.

        Uses truthy statements (``wdt:P190``: best rank only), batches of 50 items in a
        ``VALUES`` clause. Every input QID gets an entry (empty set when none); values that
        are not items (unknown value) are skipped. Raises :class:`~kg.errors.WikidataError`
        on any failure or on a malformed QID.
        """
        wanted = _unique(qids)
        for qid in wanted:
            if not _QID.fullmatch(qid):
                raise WikidataError(f"malformed QID {qid!r}: expected Q followed by digits")
        result: dict[str, set[str]] = {qid: set() for qid in wanted}
        for batch in _batches(wanted):
            values = " ".join(f"wd:{qid}" for qid in batch)
            query = (
                f"PREFIX wd: <{ENTITY_IRI}>\n"
                "PREFIX wdt: <http://www.wikidata.org/prop/direct/>\n"
                "SELECT ?item ?twin WHERE {\n"
                f"  VALUES ?item {{ {values} }}\n"
                "  ?item wdt:P190 ?twin .\n"
                "}"
            )
            data, evidence = self._sparql(query)
            for item, twin in self._bindings(data, evidence):
                if item in result:
                    result[item].add(twin)
            for qid in batch:
                self._twin_evidence[qid] = evidence
        return result

    def select(self, query: str) -> tuple[list[dict[str, dict[str, str]]], Evidence]:
        """The bindings of a SPARQL SELECT ``query`` on the query service, and their evidence.

        Same etiquette as every request here (User-Agent, retries honouring ``Retry-After``,
        the persistent cache: a cached answer keeps its original retrieval time). Each binding
        maps a variable to its SPARQL JSON term (``type``, ``value``, ``datatype``,
        ``xml:lang``); malformed rows are skipped. Raises :class:`~kg.errors.WikidataError`
        on any failure or on an answer without ``results.bindings``.
        """
        data, evidence = self._sparql(query)
        results = data.get("results")
        bindings = results.get("bindings") if isinstance(results, dict) else None
        if not isinstance(bindings, list):
            raise WikidataError(f"{evidence.endpoint}: malformed SPARQL JSON: no results.bindings")
        rows: list[dict[str, dict[str, str]]] = []
        for row in bindings:
            if not isinstance(row, dict):
                continue
            clean = {var: {k: v for k, v in term.items() if isinstance(v, str)}
                     for var, term in row.items()
                     if isinstance(var, str) and isinstance(term, dict)}
            rows.append(clean)
        return rows, evidence

    # ---- answers ----------------------------------------------------------------------

    def _entities(self, data: Mapping[str, Any], evidence: Evidence) -> list[Entity]:
        entities = data.get("entities")
        if not isinstance(entities, dict):
            raise WikidataError(f"{evidence.url}: malformed answer: no 'entities' object")
        found: list[Entity] = []
        for raw in entities.values():
            if not isinstance(raw, dict) or _is_missing(raw):
                continue
            entity = _parse_entity(raw, evidence.url)
            found.append(entity)
            self._entity_evidence[entity.qid] = evidence
        return found

    def _bindings(self, data: Mapping[str, Any], evidence: Evidence) -> list[tuple[str, str]]:
        results = data.get("results")
        bindings = results.get("bindings") if isinstance(results, dict) else None
        if not isinstance(bindings, list):
            raise WikidataError(f"{evidence.endpoint}: malformed SPARQL JSON: no results.bindings")
        pairs: list[tuple[str, str]] = []
        for row in bindings:
            if not isinstance(row, dict):
                continue
            ids: list[str] = []
            for var in ("item", "twin"):
                term = row.get(var)
                value = term.get("value") if isinstance(term, dict) else None
                is_uri = isinstance(term, dict) and term.get("type") == "uri"
                if is_uri and isinstance(value, str) and value.startswith(ENTITY_IRI):
                    local = value[len(ENTITY_IRI) :]
                    if _QID.fullmatch(local):
                        ids.append(local)
            if len(ids) == 2:
                pairs.append((ids[0], ids[1]))
        return pairs

    # ---- transport --------------------------------------------------------------------

    def _api(self, params: Mapping[str, str]) -> tuple[dict[str, Any], Evidence]:
        """GET the Action API with ``params`` (plus format, formatversion, maxlag).

        Returns the decoded JSON object and its evidence, from the cache when possible.
        """
        full = {**params, "format": "json", "formatversion": "2", "maxlag": str(self.maxlag)}
        # maxlag is etiquette, not part of the question: keep it out of the cache key.
        key_params = {k: v for k, v in full.items() if k != "maxlag"}
        request = urlencode(sorted(key_params.items()))
        url = f"{self.api_url}?{request}"
        cached = self._cache_get(self.api_url, request)
        if cached is not None:
            return cached

        def attempt() -> dict[str, Any]:
            try:
                response = self.session.get(
                    self.api_url,
                    params=full,
                    headers={"User-Agent": self.user_agent, "Accept": "application/json"},
                    timeout=self.timeout,
                )
            except requests.Timeout as exc:
                raise _Retry(f"timed out after {self.timeout:g} s") from exc
            except requests.RequestException as exc:
                raise _Retry(f"connection failed ({type(exc).__name__})") from exc
            retry_after = _retry_after(response.headers.get("Retry-After"))
            if response.status_code in _RETRY_STATUS:
                raise _Retry(f"HTTP {response.status_code}", retry_after)
            if response.status_code != 200:
                raise WikidataError(f"{url}: HTTP {response.status_code}")
            try:
                data = json.loads(response.content.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise WikidataError(f"{url}: malformed JSON answer ({exc})") from None
            if not isinstance(data, dict):
                raise WikidataError(f"{url}: malformed answer: not a JSON object")
            error = data.get("error")
            if isinstance(error, dict):
                code = str(error.get("code", "unknown"))
                if code == "maxlag":
                    raise _Retry("maxlag (database replication lag)", retry_after)
                info = " ".join(str(error.get("info", "")).split())
                raise WikidataError(f"{url}: API error {code}: {info}")
            return data

        data = self._with_retries(url, attempt)
        return data, self._cache_put(self.api_url, request, data)

    def _sparql(self, query: str) -> tuple[dict[str, Any], Evidence]:
        """Run ``query`` on the query service (SPARQLWrapper, GET, JSON results)."""
        request = urlencode({"query": query})
        cached = self._cache_get(self.sparql_url, request)
        if cached is not None:
            return cached
        where = self.sparql_url

        def attempt() -> dict[str, Any]:
            wrapper = SPARQLWrapper(self.sparql_url, agent=self.user_agent)
            wrapper.setQuery(query)
            wrapper.setReturnFormat(JSON)
            wrapper.setTimeout(int(max(1, round(self.timeout))))
            try:
                response = wrapper.query().response
                body = response.read()
            except urllib.error.HTTPError as exc:
                if exc.code in _RETRY_STATUS:
                    raise _Retry(
                        f"HTTP {exc.code}", _retry_after(exc.headers.get("Retry-After"))
                    ) from exc
                raise WikidataError(f"{where}: HTTP {exc.code}") from None
            except SPARQLWrapperException as exc:
                name = type(exc).__name__
                if name == "EndPointInternalError":
                    raise _Retry("HTTP 500") from exc
                raise WikidataError(f"{where}: query failed ({name})") from None
            except TimeoutError as exc:
                raise _Retry(f"timed out after {self.timeout:g} s") from exc
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, TimeoutError):
                    raise _Retry(f"timed out after {self.timeout:g} s") from exc
                raise _Retry(f"connection failed ({exc.reason})") from exc
            except OSError as exc:
                raise _Retry(f"connection failed ({type(exc).__name__})") from exc
            try:
                data = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise WikidataError(f"{where}: malformed SPARQL JSON answer ({exc})") from None
            if not isinstance(data, dict):
                raise WikidataError(f"{where}: malformed SPARQL JSON answer: not an object")
            return data

        data = self._with_retries(where, attempt)
        return data, self._cache_put(self.sparql_url, request, data)

    def _with_retries(self, url: str, attempt: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Call ``attempt`` until it returns, retrying :class:`_Retry` with capped backoff."""
        for number in range(self.max_retries + 1):
            try:
                return attempt()
            except _Retry as exc:
                if number == self.max_retries:
                    tries = self.max_retries + 1
                    raise WikidataError(
                        f"{url}: {exc.reason} (gave up after {tries} attempt"
                        f"{'s' if tries != 1 else ''})"
                    ) from None
                backoff = float(2**number)
                wait = exc.retry_after if exc.retry_after is not None else backoff
                wait = min(self.max_wait, max(0.0, wait))
                log.warning("%s: %s; retrying in %.1f s", url, exc.reason, wait)
                self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    # ---- cache ------------------------------------------------------------------------

    def _cache_path(self, endpoint: str, request: str) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(f"{endpoint}\n{request}".encode()).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.json"

    def _cache_get(self, endpoint: str, request: str) -> tuple[dict[str, Any], Evidence] | None:
        """The cached answer, or ``None``; a damaged entry is logged and ignored."""
        path = self._cache_path(endpoint, request)
        if path is None or not path.exists():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            ok = (
                isinstance(record, dict)
                and record.get("version") == _CACHE_VERSION
                and record.get("endpoint") == endpoint
                and record.get("request") == request
                and isinstance(record.get("retrieved"), str)
                and isinstance(record.get("answer"), dict)
            )
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            log.warning("%s: unreadable cache entry ignored, refetching (%s)", path, exc)
            return None
        if not ok:
            log.warning("%s: damaged cache entry ignored, refetching", path)
            return None
        evidence = Evidence(endpoint, request, record["retrieved"], cached=True)
        return record["answer"], evidence

    def _cache_put(self, endpoint: str, request: str, answer: dict[str, Any]) -> Evidence:
        evidence = Evidence(endpoint, request, _now())
        path = self._cache_path(endpoint, request)
        if path is not None:
            record = {
                "version": _CACHE_VERSION,
                "endpoint": endpoint,
                "request": request,
                "retrieved": evidence.retrieved,
                "answer": answer,
            }
            atomic_write_text(path, json.dumps(record, ensure_ascii=False, sort_keys=True),
                              error=WikidataError, what="cache entry")
        return evidence
