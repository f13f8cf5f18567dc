"""Web logins: wrong passwords slow the next try down, per user name and per client address;
the right password does not get through an active lock; each failure is logged."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest

from assistant.api import Assistant
from assistant.web.logins import LoginLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_wait_doubles_and_a_success_clears_it() -> None:
    clock = Clock()
    limits = LoginLimiter(free=3, base=2, cap=60, clock=clock)
    waits = []
    for _ in range(8):
        limits.failed("ann", "10.0.0.1")
        waits.append(limits.wait("ann", "10.0.0.1"))
    assert waits == [0, 0, 0, 2, 4, 8, 16, 32]
    for _ in range(3):
        limits.failed("ann", "10.0.0.1")
    assert limits.wait("ann", "10.0.0.1") == 60  # capped
    assert limits.wait("ann", "10.9.9.9") == 60  # the user, from anywhere
    assert limits.wait("bob", "10.0.0.1") == 60  # anyone, from that address
    assert limits.wait("bob", "10.9.9.9") == 0
    clock.now += 61
    limits.succeeded("ann", "10.0.0.1")
    limits.failed("ann", "10.0.0.1")
    assert limits.wait("ann", "10.0.0.1") == 0  # counts start again after a success


def test_the_served_app_limits_logins(seeded: Assistant, caplog: pytest.LogCaptureFixture) -> None:
    from assistant.web.launch import serve

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    limiter = LoginLimiter(free=3, base=600)  # a lock far longer than this test
    demo = serve(seeded.settings, host="127.0.0.1", port=port, auth="ann:right",
                 block=False, login_limiter=limiter)  # fmt: skip
    url = f"http://127.0.0.1:{port}/login"
    try:
        with caplog.at_level(logging.WARNING, logger="assistant.web.logins"):
            codes = [
                httpx.post(url, data={"username": "ann", "password": f"wrong{i}"}).status_code
                for i in range(4)
            ]
            assert codes == [400, 400, 400, 400]
            locked = httpx.post(url, data={"username": "ann", "password": "right"})
            assert locked.status_code == 429 and "access-token" not in str(locked.cookies)
            assert "Too many failed logins: try again in" in locked.json()["detail"]
            assert int(locked.headers["retry-after"]) > 500
            other = httpx.post(url, data={"username": "bob", "password": "x"})
            assert other.status_code == 429  # the same client address is locked too
        assert "failed web login as 'ann' from 127.0.0.1" in caplog.text
        assert "locked for 600 s after 4 failed logins" in caplog.text
        limiter.succeeded("ann", "127.0.0.1")  # as when the lock has run out
        ok = httpx.post(url, data={"username": "ann", "password": "right"})
        assert ok.status_code == 200 and ok.json() == {"success": True}
    finally:
        demo.close()


def test_the_mcp_endpoint_counts_failed_logins_with_the_login_form(seeded: Assistant) -> None:
    """/mcp checks HTTP Basic on every request: without the same count, it was a door where
    passwords could be tried as fast as the network allows."""
    import base64

    from assistant.web.launch import serve

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    limiter = LoginLimiter(free=3, base=600)
    demo = serve(seeded.settings, host="127.0.0.1", port=port, auth="ann:right",
                 block=False, login_limiter=limiter)  # fmt: skip

    def basic(user: str, password: str) -> dict[str, str]:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}", "Accept": "application/json, text/event-stream"}

    url = f"http://127.0.0.1:{port}/mcp"
    try:
        codes = [httpx.post(url, json={}, headers=basic("ann", f"wrong{i}")).status_code
                 for i in range(4)]  # fmt: skip
        assert codes == [401, 401, 401, 401]
        locked = httpx.post(url, json={}, headers=basic("ann", "right"))
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 500
        form = httpx.post(
            f"http://127.0.0.1:{port}/login", data={"username": "ann", "password": "right"}
        )
        assert form.status_code == 429  # one count for both doors
        limiter.succeeded("ann", "127.0.0.1")
        assert httpx.post(url, json={}, headers=basic("ann", "right")).status_code not in (401, 429)
    finally:
        demo.close()
