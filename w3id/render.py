"""Render the w3id.org rules (``htaccess.template``) for a deployment of ``kg serve``.

    python w3id/render.py https://twinning-kg.example.org            # print the rules
    python w3id/render.py https://twinning-kg.example.org --write    # into twinning-kg/.htaccess

The deployment is the public HTTPS address where ``kg serve`` answers (behind a reverse
proxy): the rules send ``https://w3id.org/twinning-kg/<path>`` there. A standalone script
(standard library only), so it runs on any machine that prepares a pull request to
perma-id/w3id.org.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["DEFAULT_DEPLOYMENT", "HERE", "TARGET", "TEMPLATE", "main", "render"]

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "htaccess.template"
#: The rules as committed, for the folder twinning-kg/ of perma-id/w3id.org.
TARGET = HERE / "twinning-kg" / ".htaccess"
#: The deployment the committed rules name: a placeholder until the data is served publicly
#: (render again with the real address before proposing the folder to w3id.org).
DEFAULT_DEPLOYMENT = "https://twinning-kg.example.org"
_PLACEHOLDER = "{{DEPLOYMENT}}"


def render(deployment: str, template: str | None = None) -> str:
    """The rules with ``deployment`` (an absolute http(s) URL without query or fragment; a
    trailing ``/`` is dropped) in place of the template's placeholder.

    Raises ValueError for a deployment that is not such a URL or that contains characters
    that would change the meaning of a rewrite rule (spaces, ``$``, ``%``, ``\\``)."""
    parts = urlsplit(deployment)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query \
            or parts.fragment or any(c in deployment for c in " \t\n$%\\[]"):
        raise ValueError(f"not a deployment URL: {deployment!r}")
    text = TEMPLATE.read_text(encoding="utf-8") if template is None else template
    if _PLACEHOLDER not in text:
        raise ValueError(f"the template has no {_PLACEHOLDER}")
    return text.replace(_PLACEHOLDER, deployment.rstrip("/"))


def main(argv: list[str] | None = None) -> int:
    """Print (or ``--write``) the rules for the deployment given; exit 2 with one line on
    stderr for a bad URL."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("deployment", nargs="?", default=DEFAULT_DEPLOYMENT,
                        help=f"public URL of `kg serve` (default {DEFAULT_DEPLOYMENT})")
    parser.add_argument("--write", action="store_true", help=f"write {TARGET}")
    args = parser.parse_args(argv)
    try:
        text = render(args.deployment)
    except ValueError as exc:
        print(f"render.py: {exc}", file=sys.stderr)
        return 2
    if args.write:
        TARGET.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
