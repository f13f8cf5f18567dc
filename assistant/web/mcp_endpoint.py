"""The MCP server over streamable HTTP at ``/mcp`` in the web app, behind the app's logins.

``mcp_endpoint(assistant, logins, editors, host)`` gives the ASGI app to route ``/mcp`` to and
the lifespan that runs its sessions; ``launch.serve`` hands both to Gradio's FastAPI app.
When the app has logins (``--auth``), a client sends one of them as HTTP Basic credentials
(``Authorization: Basic base64(user:password)``) with every request; anything else gets 401.
Writes (``add_article``) follow the web app's rule: only editors when ASSISTANT_EDITORS is set.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.web.context import edit_refusal

if TYPE_CHECKING:
    from assistant.api import Assistant

PATH = "/mcp"
USER = "assistant.user"  # the ASGI scope key holding the logged-in user (None: no logins)
LOGIN_NEEDED = (
    "Log in to use /mcp: send one of the app's --auth logins as HTTP Basic credentials "
    "(header Authorization: Basic base64 of user:password)."
)


@dataclass(frozen=True)
class MCPEndpoint:
    """What the web app mounts: the ASGI app for ``PATH`` and the lifespan of its sessions."""

    app: Any
    lifespan: Callable[[Any], AbstractAsyncContextManager[None]]


def mcp_endpoint(
    assistant: Assistant,
    logins: list[tuple[str, str]] | None,
    editors: frozenset[str] | None,
    host: str,
    limiter: Any = None,
) -> MCPEndpoint:
    """The MCP endpoint over ``assistant`` (its library, the web app's settings)."""
    from assistant.mcp_server import build_server

    def may_write(ctx: Any) -> str | None:
        request = ctx.request_context.request if ctx is not None else None
        user = request.scope.get(USER) if request is not None else None
        return edit_refusal(editors, user)

    server = build_server(assistant, may_write, public=True)
    # the SDK's app for the path; on a loopback host it also refuses other Host headers
    # (DNS rebinding), elsewhere the logins guard it
    inner = server.streamable_http_app(streamable_http_path=PATH, host=host)
    manager = server.session_manager
    return MCPEndpoint(_LoggedIn(inner, logins, limiter), lambda app: manager.run())


class _LoggedIn:
    """ASGI: requests with a valid login (when there are logins) go on, with the user in the scope.

    A class, not a function: Starlette treats a plain function as a request handler."""

    def __init__(self, app: Any, logins: list[tuple[str, str]] | None, limiter: Any = None) -> None:
        self.app, self.logins, self.limiter = app, logins, limiter

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        user = None
        if self.logins is not None:
            header = dict(scope.get("headers") or []).get(b"authorization", b"")
            given = _given_user(header.decode("latin-1"))
            address = (scope.get("client") or ("unknown",))[0]
            wait = self.limiter.wait(given, address) if self.limiter and given is not None else 0
            if wait > 0:
                from assistant.web.logins import _refuse

                await _refuse(send, wait)  # locked: not checked, the right password too
                return
            user = self.user(header.decode("latin-1"))
            if user is None:
                if self.limiter is not None and given is not None:
                    self.limiter.failed(given, address)
                await _unauthorized(send)
                return
            if self.limiter is not None:
                self.limiter.succeeded(user, address)
        await self.app({**scope, USER: user}, receive, send)

    def user(self, header: str) -> str | None:
        """The login named by a Basic ``Authorization`` header, or None if it is not one."""
        parts = _basic(header)
        if parts is None:
            return None
        given_user, sep, given_pw = parts
        ok = None
        for user, password in self.logins or []:  # compare every login: no early exit to time
            same = hmac.compare_digest(given_user.encode(), user.encode())
            if hmac.compare_digest(given_pw.encode(), password.encode()) and same and sep:
                ok = user
        return ok


def _basic(header: str) -> tuple[str, str, str] | None:
    """(user, ":" or "", password) of a Basic ``Authorization`` header; None if it is not one."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(token.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _given_user(header: str) -> str | None:
    parts = _basic(header)
    return parts[0] if parts is not None else None


async def _unauthorized(send: Any) -> None:
    body = json.dumps({"error": LOGIN_NEEDED}).encode()
    await send({"type": "http.response.start", "status": 401, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", b'Basic realm="Commentary Assistant MCP"'),
    ]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
