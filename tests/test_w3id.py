"""The w3id.org rules (``w3id/twinning-kg/.htaccess``): where each IRI pattern goes.

The rules are read and run by a small interpreter of the mod_rewrite subset they use
(``RewriteCond`` on ``%{HTTP_ACCEPT}`` with ``!``, ``[NC]``, ``[OR]``; ``RewriteRule`` with
``$N`` and ``[R=code,L]``; the path matched decoded and the redirect escaped again, as
Apache does in a per-directory context). Each redirect target is then requested from a
live ``kg serve`` with the same ``Accept`` header, so the rules and the server agree. The
same expectations are then checked against a real Apache httpd (Debian's ``apache2``, as
w3id.org runs) serving the folder, which keeps the interpreter honest.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from urllib.parse import quote, unquote

import pytest
import requests

from kg import paths
from kg.serve.app import open_site
from tests.serve.conftest import serve_site
from tests.stores import free_port, stop

W3ID = paths.PROJECT_ROOT / "w3id"
DEPLOY = "https://twinning-kg.example.org"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
UNRESOLVED = "place/zhwiki/" + quote("華盛頓", safe="")


def _render_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("w3id_render", W3ID / "render.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = _render_module()


# --- a mod_rewrite interpreter for the rules' subset -------------------------------------------

@dataclass
class Cond:
    variable: str
    pattern: str
    negate: bool
    flags: set[str]


@dataclass
class Rule:
    pattern: str
    target: str
    flags: dict[str, str]
    conds: list[Cond] = field(default_factory=list)


def _flags(text: str | None) -> list[str]:
    return [] if not text else text.strip("[]").split(",")


def parse_rules(text: str) -> list[Rule]:
    rules: list[Rule] = []
    pending: list[Cond] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        if words[0] == "RewriteCond":
            variable, pattern = words[1], words[2]
            negate = pattern.startswith("!")
            pending.append(Cond(variable, pattern.lstrip("!"), negate,
                                set(_flags(words[3] if len(words) > 3 else None))))
        elif words[0] == "RewriteRule":
            flags = {}
            for flag in _flags(words[3] if len(words) > 3 else None):
                key, _, value = flag.partition("=")
                flags[key] = value
            rules.append(Rule(words[1], words[2], flags, pending))
            pending = []
        else:
            assert words[0] in ("Options", "Header", "RewriteEngine"), line
    assert not pending, "a RewriteCond without its RewriteRule"
    return rules


def _conds_hold(conds: list[Cond], env: dict[str, str]) -> bool:
    # Conditions are ANDed; [OR] joins a condition with the next one.
    result: bool | None = None
    pending_or = False
    for cond in conds:
        value = env.get(cond.variable.strip("%{}"), "")
        found = re.search(cond.pattern, value, re.I if "NC" in cond.flags else 0) is not None
        holds = found != cond.negate
        if result is None:
            result = holds
        elif pending_or:
            result = result or holds
        else:
            result = result and holds
        pending_or = "OR" in cond.flags
    return True if result is None else result


def _escape(url: str) -> str:
    # Apache escapes the substitution of an external redirect (no [NE]), in lower-case hex
    # (kg serve takes either case: the test of the targets below requests these).
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    escaped = quote(path, safe="$-_.+!*'(),:@&=/~")
    return f"{scheme}://{host}/" + re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), escaped)


def _substitute(target: str, groups: tuple[str | None, ...]) -> str:
    return re.sub(r"\$(\d)", lambda m: groups[int(m.group(1)) - 1] or "", target)


def resolve(rules: list[Rule], path: str, accept: str | None = None) -> tuple[int, str] | None:
    """(status, Location) for a request of ``https://w3id.org/twinning-kg/<path>``, or None
    when no rule applies (w3id.org then answers 404)."""
    decoded = unquote(path)
    env = {"HTTP_ACCEPT": accept or ""}
    for rule in rules:
        match = re.search(rule.pattern, decoded)
        if match is None or not _conds_hold(rule.conds, env):
            continue
        assert "L" in rule.flags and "R" in rule.flags, rule
        target = _substitute(rule.target, match.groups())
        return int(rule.flags["R"]), _escape(target)
    return None


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return parse_rules((W3ID / "twinning-kg" / ".htaccess").read_text(encoding="utf-8"))


# --- the committed rules --------------------------------------------------------------------

def test_committed_rules_are_the_rendered_template() -> None:
    text = (W3ID / "twinning-kg" / ".htaccess").read_text(encoding="utf-8")
    assert text == render.render(render.DEFAULT_DEPLOYMENT)
    assert render.DEFAULT_DEPLOYMENT == DEPLOY
    assert (W3ID / "twinning-kg" / "README.md").is_file()  # w3id.org wants one per folder


def test_render_for_another_deployment() -> None:
    text = render.render("https://kg.example.net/twinning/")
    assert "https://kg.example.net/twinning/place" not in text  # $1 holds the path
    assert "https://kg.example.net/twinning/$1.ttl [R=303,L]" in text
    assert "{{" not in text and DEPLOY not in text
    for bad in ("ftp://x", "https://x/ y", "https://x/$1", "not a url", "https://x/?q=1"):
        with pytest.raises(ValueError):
            render.render(bad)


def test_render_script_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert render.main(["https://kg.example.net"]) == 0
    assert "https://kg.example.net/ontology.ttl" in capsys.readouterr().out
    assert render.main(["javascript:alert(1)"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


WHERE = [
    ("place/Q956", "text/turtle", 303, "/place/Q956.ttl"),
    ("place/Q956", "application/n-triples", 303, "/place/Q956.nt"),
    ("place/Q956", "application/ld+json", 303, "/place/Q956.jsonld"),
    ("place/Q956", "application/rdf+xml", 303, "/place/Q956.rdf"),
    ("place/Q956", "text/html", 303, "/place/Q956.html"),
    ("place/Q956", BROWSER, 303, "/place/Q956.html"),
    ("place/Q956", None, 302, "/place/Q956"),
    ("place/Q956", "*/*", 302, "/place/Q956"),
    ("place/Q956", "text/turtle;q=0.9, text/html;q=0.1", 302, "/place/Q956"),
    (UNRESOLVED, "text/turtle", 303, f"/{UNRESOLVED.lower()}.ttl"),
    ("place/lhc/Azerbaijan/Shusha", "text/html", 303, "/place/lhc/Azerbaijan/Shusha.html"),
    ("twinning/zhwiki/L12", "text/turtle", 303, "/twinning/zhwiki/L12.ttl"),
    ("membership/lhc/L10", "application/ld+json", 303, "/membership/lhc/L10.jsonld"),
    ("source/zhwiki", "text/turtle", 303, "/source/zhwiki.ttl"),
    ("source/zhwiki", "text/html", 303, "/source/zhwiki.html"),
    ("network/league-of-historical-cities", "text/turtle", 303,
     "/network/league-of-historical-cities.ttl"),
    ("period/as-of-2025-12", "text/turtle", 303, "/period/as-of-2025-12.ttl"),
    ("graph/lhc", "text/turtle", 303, "/graph/lhc.ttl"),
    ("dataset", "text/turtle", 303, "/dataset.ttl"),
    ("ontology", "text/turtle", 303, "/ontology.ttl"),
    ("ontology", "text/html", 303, "/ontology.html"),
    ("ontology", BROWSER, 303, "/ontology.html"),
    ("ontology", "application/rdf+xml", 303, "/ontology.rdf"),
    ("ontology", None, 302, "/ontology"),
    ("ontology/0.1.0", "text/turtle", 303, "/ontology.ttl"),
    ("place/Q956.ttl", "text/html", 302, "/place/Q956.ttl"),
    ("ontology.jsonld", None, 302, "/ontology.jsonld"),
    ("twinning.ttl", None, 302, "/dumps/twinning.ttl"),
    ("twinning.trig", None, 302, "/dumps/twinning.trig"),
    ("twinning-geo-odbl.nt", None, 302, "/dumps/twinning-geo-odbl.nt"),
    ("twinning-sameas.nt", None, 302, "/dumps/twinning-sameas.nt"),
    ("void.ttl", None, 302, "/dumps/void.ttl"),
    ("dumps/twinning.nt", None, 302, "/dumps/twinning.nt"),
    ("void", None, 302, "/.well-known/void"),
    ("sparql", None, 307, "/sparql"),
    ("", BROWSER, 302, "/"),
]


@pytest.mark.parametrize(("path", "accept", "status", "target"), WHERE)
def test_where_each_iri_goes(rules: list[Rule], path: str, accept: str | None, status: int,
                             target: str) -> None:
    assert resolve(rules, path, accept) == (status, DEPLOY + target)


@pytest.mark.parametrize("path", ["foo", "places/Q956", "place", "place/", "ontologyx",
                                  ".htaccess", "twinning.exe"])
def test_other_paths_are_not_redirected(rules: list[Rule], path: str) -> None:
    assert resolve(rules, path, "text/turtle") is None


# --- the targets exist on a live kg serve ------------------------------------------------------

BASE = "https://w3id.org/twinning-kg/"
GRAPH_TRIG = f"""\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix tw: <https://w3id.org/twinning-kg/ontology#> .
<{BASE}graph/lhc> {{
  <{BASE}place/Q956> a tw:Place ; rdfs:label "Beijing"@en .
  <{BASE}{UNRESOLVED}> a tw:Place ; rdfs:label "華盛頓"@zh-Hant .
  <{BASE}place/lhc/Azerbaijan/Shusha> a tw:Place .
  <{BASE}twinning/zhwiki/L12> a tw:Twinning ; tw:place <{BASE}place/Q956> .
  <{BASE}membership/lhc/L10> rdfs:label "membership" .
  <{BASE}source/zhwiki> a tw:SourceDocument .
  <{BASE}network/league-of-historical-cities> a tw:CityNetwork .
  <{BASE}period/as-of-2025-12> rdfs:label "as of 2025-12"@en .
}}
"""
VOID_TTL = f"""\
@prefix void: <http://rdfs.org/ns/void#> .
<{BASE}dataset> a void:Dataset ; void:uriSpace "{BASE}" ; void:triples 11 .
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("w3id")
    trig = folder / "twinning.trig"
    trig.write_text(GRAPH_TRIG, encoding="utf-8")
    dumps = [trig]
    for name in ("twinning.ttl", "twinning.nt"):
        (folder / name).write_text(f"<{BASE}place/Q956> a <{BASE}ontology#Place> .\n")
        dumps.append(folder / name)
    void = folder / "void.ttl"
    void.write_text(VOID_TTL, encoding="utf-8")
    dumps.append(void)
    site = open_site([trig], void=void, dumps=dumps, queries_dir=paths.QUERIES_DIR)
    with serve_site(site) as url:
        yield url


@pytest.mark.parametrize(("path", "accept"), [
    (p, a) for p in ("place/Q956", UNRESOLVED, "place/lhc/Azerbaijan/Shusha",
                     "twinning/zhwiki/L12", "membership/lhc/L10", "source/zhwiki",
                     "network/league-of-historical-cities", "period/as-of-2025-12",
                     "graph/lhc", "dataset", "ontology", "ontology/0.1.0")
    for a in ("text/turtle", "application/n-triples", "application/ld+json",
              "application/rdf+xml", "text/html", BROWSER, None)
] + [(p, None) for p in ("twinning.ttl", "twinning.nt", "void.ttl", "dumps/twinning.trig",
                         "void", "sparql", "place/Q956.ttl", "ontology.html", "")])
def test_targets_are_served(rules: list[Rule], server: str, path: str,
                            accept: str | None) -> None:
    found = resolve(rules, path, accept)
    assert found is not None
    status, location = found
    local = server + location[len(DEPLOY):]
    headers = {"Accept": accept} if accept else {}
    answer = requests.get(local, headers=headers, allow_redirects=False, timeout=60)
    if status == 303 or location.endswith((".ttl", ".nt", ".jsonld", ".rdf", ".html")):
        assert answer.status_code == 200, (path, accept, local, answer.status_code)
    elif path.startswith(("place/", "twinning/", "membership/", "source/", "network/",
                          "period/", "graph/", "dataset")):
        # The deployment negotiates what the rules left open.
        assert answer.status_code == 303, (path, local, answer.status_code)
    else:
        assert answer.status_code == 200, (path, local, answer.status_code)


def test_a_rule_per_path_the_graph_mints() -> None:
    # Every IRI kind kg.rdf.vocab.Iris mints has a rule (dataset parts included).
    from kg.rdf.vocab import Iris

    iris = Iris()
    minted = [iris.place_qid("Q956"), iris.place_zhwiki("華盛頓"),
              iris.place_lhc_city("Azerbaijan", "Shusha"), iris.place_lhc_country("Japan"),
              iris.twinning("zhwiki", 12, 2), iris.membership("lhc", 10), iris.source("zhwiki"),
              iris.network("League of Historical Cities"), iris.period_as_of("2025-12"),
              iris.instant("2025-12"), iris.graph("lhc"), iris.dataset(),
              iris.dataset("linkset/wikidata")]
    parsed = parse_rules((W3ID / "twinning-kg" / ".htaccess").read_text(encoding="utf-8"))
    for iri in minted:
        path = str(iri).removeprefix(BASE)
        found = resolve(parsed, path, "text/turtle")
        assert found is not None and found[0] == 303, iri
        assert unquote(found[1]) == f"{DEPLOY}/{unquote(path)}.ttl", iri


# --- the same rules in a real Apache httpd ------------------------------------------------------

APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
APACHE_CONF = """\
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {root}/httpd.pid
ErrorLog {root}/error.log
LogLevel warn rewrite:warn
{user}
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule rewrite_module {modules}/mod_rewrite.so
LoadModule headers_module {modules}/mod_headers.so
DocumentRoot "{root}/www"
<Directory "{root}/www">
  AllowOverride All
  Require all granted
</Directory>
"""


def _wait_for_apache(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"apache2 exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            requests.get(base + "/", timeout=2, allow_redirects=False)
            return
        except requests.RequestException:
            time.sleep(0.2)
    pytest.fail(f"apache2 not up after 30 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def apache() -> Iterator[str]:
    """Apache httpd serving a copy of ``w3id/twinning-kg/`` as ``/twinning-kg/``."""
    if not (os.path.exists(APACHE) and os.path.exists(f"{MODULES}/mod_rewrite.so")):
        pytest.skip("needs Debian's apache2 (.ci/run installs it)")
    # Readable by the user Apache drops to when started as root.
    with tempfile.TemporaryDirectory(prefix="kg-w3id-") as folder:
        root = Path(folder)
        root.chmod(0o755)
        shutil.copytree(W3ID / "twinning-kg", root / "www" / "twinning-kg")
        for path in [root / "www", *(root / "www").rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        port = free_port()
        user = "User nobody\nGroup nogroup" if os.geteuid() == 0 else ""
        conf = root / "httpd.conf"
        conf.write_text(APACHE_CONF.format(port=port, root=root, modules=MODULES, user=user),
                        encoding="utf-8")
        log = root / "stdout.log"
        with log.open("wb") as out:
            process = subprocess.Popen([APACHE, "-f", str(conf), "-DFOREGROUND"],
                                       stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for_apache(base, process, log)
            yield base + "/twinning-kg/"
        finally:
            stop(process)


@pytest.mark.parametrize(("path", "accept", "status", "target"), WHERE)
def test_apache_sends_each_iri_where_the_rules_say(apache: str, path: str, accept: str | None,
                                                    status: int, target: str) -> None:
    headers = {"Accept": accept} if accept else {}
    answer = requests.get(apache + path, headers=headers, allow_redirects=False, timeout=30)
    assert (answer.status_code, answer.headers.get("Location")) == (status, DEPLOY + target)


@pytest.mark.parametrize("path", ["foo", "places/Q956", "ontologyx", "twinning.exe"])
def test_apache_leaves_other_paths_alone(apache: str, path: str) -> None:
    answer = requests.get(apache + path, headers={"Accept": "text/turtle"},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 404
