"""Failed web logins slow the next try down, per user name and per client address.

Gradio checks a password as fast as it is sent (200 wrong passwords in 0.31 s, then the right
one let in at once). ``LoginLimiter`` counts failures; after ``free`` of them, each further try
from that user name or address waits ``base * 2**(extra failures)`` seconds (at most ``cap``),
and a try during the wait is refused unchecked — so the right password does not get through an
active lock either. A success clears the counts. Each failure and each lock is logged.

``LoginLimit`` is the ASGI middleware that applies it to Gradio's ``POST /login`` (Gradio's
own ``auth`` callable is not told the client's address).

>>> limits = LoginLimiter(free=2, base=10, clock=lambda: 0.0)
>>> for _ in range(3):
...     limits.failed("ann", "10.0.0.9")
>>> limits.wait("ann", "10.0.0.7"), limits.wait("bob", "10.0.0.9"), limits.wait("bob", "10.0.0.7")
(10.0, 10.0, 0.0)
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

MAX_KEYS = 10_000  # counts kept at most (an attacker trying random names must not fill memory)


@dataclass
class _Count:
    failures: int = 0
    until: float = 0.0  # no try before this time (clock seconds)


class LoginLimiter:
    """Counts of failed logins by user name and by client address (thread-safe)."""

    def __init__(
        self,
        free: int = 5,
        base: float = 1.0,
        cap: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free, self.base, self.cap, self.clock = free, base, cap, clock
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    def wait(self, user: str, address: str) -> float:
        """Seconds before a login as ``user`` from ``address`` may be tried (0: now)."""
        now = self.clock()
        with self._lock:
            ends = [c.until for k in _keys(user, address) if (c := self._counts.get(k))]
        return max([0.0, *(end - now for end in ends)])

    def failed(self, user: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._counts) >= MAX_KEYS:
                self._counts = {k: c for k, c in self._counts.items() if c.until > now}
            for key in _keys(user, address):
                c = self._counts.setdefault(key, _Count())
                c.failures += 1
                if c.failures > self.free:
                    delay = min(self.cap, self.base * 2 ** (c.failures - self.free - 1))
                    c.until = now + delay
                    log.warning("login %s locked for %.0f s after %d failed logins",
                                key, delay, c.failures)  # fmt: skip
        log.warning("failed web login as %r from %s", user, address)

    def succeeded(self, user: str, address: str) -> None:
        with self._lock:
            for key in _keys(user, address):
                self._counts.pop(key, None)


def _keys(user: str, address: str) -> tuple[str, str]:
    return f"user {user!r}", f"address {address}"


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

MAX_FORM = 64 * 1024  # a login form is two short fields


class LoginLimit:
    """ASGI middleware: ``POST /login`` goes through ``limiter`` (see the module docstring)."""

    def __init__(self, app: Any, limiter: LoginLimiter) -> None:
        self.app, self.limiter = app, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", "")).rstrip("/")
        if scope["type"] != "http" or scope.get("method") != "POST" or not path.endswith("/login"):
            await self.app(scope, receive, send)
            return
        body, messages = b"", []
        while True:  # the form, read here and handed on unchanged
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if not message.get("more_body") or len(body) > MAX_FORM:
                break
        form = parse_qs(body[:MAX_FORM].decode("utf-8", "replace"))
        user = (form.get("username") or [""])[0].strip()
        address = (scope.get("client") or ("unknown",))[0]
        wait = self.limiter.wait(user, address)
        if wait > 0:
            await _refuse(send, wait)
            return

        async def replay() -> MutableMapping[str, Any]:
            return messages.pop(0) if messages else await receive()

        status: list[int] = []

        async def watch(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, replay, watch)
        if status and status[0] == 200:
            self.limiter.succeeded(user, address)
        elif status and 400 <= status[0] < 500:
            self.limiter.failed(user, address)


async def _refuse(send: Send, wait: float) -> None:
    seconds = max(1, round(wait))
    body = json.dumps(
        {"detail": f"Too many failed logins: try again in {seconds} seconds."}
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"retry-after", str(seconds).encode())]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
