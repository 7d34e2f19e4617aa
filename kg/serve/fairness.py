"""Fairness per client: who the client is, and how many connections and running queries
each one may hold.

A client is named by its address. Behind a reverse proxy every request comes from the
proxy's address, so a deployment names the proxy (``kg serve --trusted-proxy ADDR``, off
by default): for a connection from that address only, the client is the address the proxy
added last to ``X-Forwarded-For`` (or the last ``for=`` of ``Forwarded``); from any other
address those headers are ignored, since a client could write anything in them.
Connections from a trusted proxy are not counted per address (the proxy carries many
clients); their queries are, per forwarded client.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message

__all__ = ["ClientCounter", "TooMany", "client_name"]


class TooMany(Exception):
    """The client already holds as many as its limit allows."""


class ClientCounter:
    """How many of something (connections, running queries) each client holds, at most
    ``limit`` each (0: no limit)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def enter(self, client: str) -> bool:
        """Count one more for ``client``; ``False`` (nothing counted) past the limit."""
        with self._lock:
            held = self._counts.get(client, 0)
            if self.limit and held >= self.limit:
                return False
            self._counts[client] = held + 1
            return True

    def leave(self, client: str) -> None:
        """Count one less for ``client``."""
        with self._lock:
            held = self._counts.get(client, 0) - 1
            if held > 0:
                self._counts[client] = held
            else:
                self._counts.pop(client, None)

    @contextmanager
    def hold(self, client: str) -> Iterator[None]:
        """One for ``client`` while the block runs. Raises :class:`TooMany` past the
        limit."""
        if not self.enter(client):
            raise TooMany(client)
        try:
            yield
        finally:
            self.leave(client)


def _forwarded_for(value: str) -> str | None:
    last = None
    for element in value.split(","):
        for pair in element.split(";"):
            key, _, name = pair.strip().partition("=")
            if key.strip().lower() == "for" and name:
                last = name.strip().strip('"')
    if last and last.startswith("["):  # for="[2001:db8::1]:4711"
        return last[1:].split("]")[0]
    if last and last.count(":") == 1:  # for=192.0.2.43:4711
        return last.split(":")[0]
    return last


def client_name(peer: str, headers: Message, trusted: frozenset[str]) -> str:
    """The client a request comes from: ``peer`` (the socket's address), or, when ``peer``
    is a trusted proxy, the address it forwarded (see the module docstring)."""
    if peer not in trusted:
        return peer
    forwarded = headers.get_all("X-Forwarded-For") or []
    hops = [hop.strip() for value in forwarded for hop in value.split(",") if hop.strip()]
    if hops:
        return hops[-1]
    named = headers.get_all("Forwarded") or []
    found = _forwarded_for(",".join(named)) if named else None
    return found or peer
