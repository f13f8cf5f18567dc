"""Launching the web app: logins, who may edit, the bind address, and ``serve``.

``serve(settings)`` brings the index in line, warms the model, starts watching the corpus
(index/watch.py: questions then never scan it) and launches the app on http://127.0.0.1:7860
(``assistant serve`` and ``python app.py`` call it).
"""

import errno
import ipaddress
import os
import socket
import sys
import threading
import time
from dataclasses import replace
from typing import Any

from assistant.errors import AssistantError, InputError
from assistant.settings import Settings
from assistant.web.app import build_app
from assistant.web.context import ProgressRelay, asset

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
DEFAULT_PORT = 7860


def web_settings(settings: Settings) -> Settings:
    """The settings for the web app: no fetching of private addresses unless allowed
    (ASSISTANT_ALLOW_PRIVATE_URLS, read by ``Settings.from_env``)."""
    allow = settings.web.allow_private_urls
    return replace(settings, ingest=replace(settings.ingest, allow_private_urls=allow))


def launch_options(settings: Settings) -> dict[str, Any]:
    """The look and limits passed to ``launch`` (Gradio 6 takes the theme and CSS there)."""
    import gradio as gr

    # system fonts only: the theme's default Google Fonts would be fetched from the internet
    sans = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    theme = gr.themes.Soft(primary_hue="indigo", neutral_hue="slate", font=sans, font_mono=mono)
    return {"theme": theme, "css": asset("style.css"), "js": asset("page.js"),
            "max_file_size": settings.ingest.max_bytes}  # fmt: skip


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """``("user", "password")`` from ``user:password``; InputError for any other form."""
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise InputError("--auth must be USER:PASSWORD (or set ASSISTANT_AUTH=user:password).")
    return user, password


def parse_logins(auth: str | None) -> list[tuple[str, str]] | None:
    """Logins from ``ann:pw1,bob:pw2`` (one or more ``user:password``, comma-separated)."""
    if not auth:
        return None
    return [parse_auth(part.strip()) for part in auth.split(",")]  # type: ignore[misc]


def parse_editors(value: str | None) -> frozenset[str] | None:
    """The users allowed to add and remove articles (``ann,bob``); None: anyone who can log in."""
    names = frozenset(n.strip() for n in (value or "").split(",") if n.strip())
    return names or None


def listen_port(port: int | None, env_port: str | None) -> int:
    """The port to listen on: ``--port``, else ASSISTANT_PORT (``env_port``), else 7860;
    InputError for anything but a whole number from 1 to 65535 (told before any work)."""
    if port is not None:
        given, shown = str(port), f"--port {port}"
    elif env_port is not None and env_port.strip():
        given, shown = env_port.strip(), f"ASSISTANT_PORT={env_port!r}"
    else:
        return DEFAULT_PORT
    if not (given.isascii() and given.isdigit()) or not 1 <= int(given) <= 65535:
        raise InputError(f"{shown} is not a port: give a whole number from 1 to 65535 "
                         f"(the default is {DEFAULT_PORT}).")  # fmt: skip
    return int(given)


def check_listen(host: str, port: int) -> None:
    """InputError, naming the fix, unless this machine can listen on ``host``:``port`` now
    (binding as the server will, every address the host names; the socket is closed at once)."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    not_ours = InputError(
        f"Cannot listen on {host}: not an address of this machine. Use --host 127.0.0.1 "
        "(this machine only) or 0.0.0.0 (all interfaces)."
    )
    try:
        found = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, ValueError, UnicodeError):  # a name that does not resolve, a bad literal
        raise not_ours from None
    for family, kind, proto, _, address in dict.fromkeys(found):
        try:
            s = socket.socket(family, kind, proto)
        except OSError:  # IPv6 turned off, say
            raise not_ours from None
        with s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                s.bind(address)
            except OSError as e:
                if e.errno == errno.EADDRNOTAVAIL:
                    raise not_ours from None
                raise _port_taken(host, port) from None


def _port_taken(host: str, port: int) -> InputError:
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    shown = f"[{bare}]" if ":" in bare else bare
    return InputError(
        f"Cannot listen on {shown}:{port}: the port is in use (or not allowed). "
        "Choose another with --port N (or ASSISTANT_PORT)."
    )


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    auth: str | None = None,
    *,
    editors: str | None = None,
    mcp: bool = True,
    block: bool = True,
    login_limiter: Any = None,
) -> Any:
    """Bring the index in line, warm the model, launch the app and print its URL.

    ``auth``: ``user:password`` logins, comma-separated (else ASSISTANT_AUTH); ``editors``: the
    users who may add and remove articles, comma-separated (else ASSISTANT_EDITORS; unset:
    everyone who can open the app). ``mcp``: also serve the MCP endpoint ``/mcp`` (behind the
    same logins, writes for editors only). ``block=False`` returns the running Blocks, for tests;
    ``login_limiter``: a ``logins.LoginLimiter`` other than the default one (for tests).
    """
    started = time.perf_counter()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    # one event at a time; said here rather than by demo.queue(default_concurrency_limit=1),
    # which built Gradio's FastAPI app once more (~0.1 s of start-up)
    os.environ["GRADIO_DEFAULT_CONCURRENCY_LIMIT"] = "1"
    host = host or "127.0.0.1"
    port = listen_port(port, settings.web.port)
    credentials = parse_logins(auth or settings.web.auth)
    editor_names = parse_editors(editors if editors is not None else settings.web.editors)
    settings = web_settings(settings)
    from assistant.index.watch import check_mode

    check_mode(settings)  # a bad ASSISTANT_WATCH is told before anything starts
    check_listen(host, port)  # and a port in use or a host not ours, before the index and Gradio

    from assistant.api import Assistant

    relay = ProgressRelay()
    assistant = Assistant(settings, progress=relay)
    print(
        f"Bringing the index in {settings.index_dir}/ in line with {settings.corpus_dir}/ …",
        flush=True,
    )
    assistant.ensure_index()
    # a first question loads the model, BM25 and Chroma's graph (seconds at 100k articles):
    # asked on a thread while Gradio is imported and the app built, so start-up takes the
    # longer of the two, not their sum
    warm = threading.Thread(target=_warm_up, args=(assistant,), name="warm-up", daemon=True)
    warm.start()
    demo = build_app(settings, assistant, editors=editor_names)
    if editor_names is not None:
        users = {u for u, _ in credentials or []}
        print(f"Only {', '.join(sorted(editor_names))} may add or remove articles"
              + ("" if editor_names & users else " (none of them can log in: read-only)"),
              file=sys.stderr, flush=True)  # fmt: skip
    if not is_loopback(host) and credentials is None:
        bar = "!" * 78
        print(f"\n{bar}\n  WARNING: serving on {host} WITHOUT a login. Anyone who can reach this machine\n"
              f"  can read, add and remove articles. Use --auth USER:PASSWORD or ASSISTANT_AUTH.\n{bar}\n",
              file=sys.stderr, flush=True)  # fmt: skip
    app_kwargs: dict[str, Any] = {}
    limiter = None
    if credentials is not None:
        from assistant.web.logins import LoginLimiter

        # wrong passwords slow the next try down, per user name and per client address: at
        # the login form and at /mcp alike (one count, so neither door bypasses the other)
        limiter = login_limiter or LoginLimiter()
    if mcp:  # agents' endpoint: Gradio's FastAPI app routes /mcp to it and runs its sessions
        from starlette.routing import Route

        from assistant.web.mcp_endpoint import PATH, mcp_endpoint

        endpoint = mcp_endpoint(assistant, credentials, editor_names, host, limiter)
        app_kwargs = {"routes": [Route(PATH, endpoint.app)], "lifespan": endpoint.lifespan}
    if limiter is not None:
        from starlette.middleware import Middleware

        from assistant.web.logins import LoginLimit

        app_kwargs["middleware"] = [Middleware(LoginLimit, limiter=limiter)]
    try:
        demo.launch(
            server_name=host, server_port=port, auth=credentials, share=False,
            prevent_thread_lock=True, quiet=True, show_error=False,
            footer_links=["api"], app_kwargs=app_kwargs, **launch_options(settings),
        )  # fmt: skip
    except OSError as e:  # taken since the check: Gradio's advice names its own variable
        warm.join()
        assistant.close()
        check_listen(host, port)
        if "Cannot find empty port" in str(e):  # Gradio tries 127.0.0.1 too, whatever the host
            raise _port_taken(host, port) from None
        raise
    warm.join()
    watcher = start_watcher(assistant, settings)  # after: its first catch-up is no warm-up's wait
    shown_host = f"[{host}]" if ":" in host else host
    print(f"Commentary Assistant ready at http://{shown_host}:{port}/ "
          f"(started in {time.perf_counter() - started:.1f} s; Ctrl+C to stop)", flush=True)  # fmt: skip
    if mcp:
        print(f"MCP endpoint for agents: http://{shown_host}:{port}/mcp "
              "(streamable HTTP; --no-mcp turns it off)", flush=True)  # fmt: skip
    if not block:
        if watcher is not None:  # the watcher stops with the app
            close = demo.close
            demo.close = lambda *a, **k: (watcher.stop(), close(*a, **k))[1]  # type: ignore[method-assign]
        return demo
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        if watcher is not None:
            watcher.stop()
        demo.close()
        assistant.close()
    return demo


def _warm_up(assistant: Any) -> None:
    try:
        assistant.ask("What is this library about?")
    except AssistantError as e:
        print(f"note: warm-up question failed: {e}", file=sys.stderr)


def start_watcher(assistant: Any, settings: Settings) -> Any:
    """The running Watcher of the app's library (None when ASSISTANT_WATCH=off), its lines on
    stderr."""
    from assistant.index.watch import watcher_for

    watcher = watcher_for(assistant.library, settings, report=_note)
    if watcher is not None:
        inbox = f" and {settings.watch.inbox}/" if settings.watch.inbox else ""
        print(f"Watching {settings.corpus_dir}/{inbox} ({watcher.how}): changes are indexed "
              "in the background", flush=True)  # fmt: skip
    return watcher


def _note(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
