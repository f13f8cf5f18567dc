"""Server mode: every command and the web app against a real ``chroma run`` on loopback.

One Chroma server per module (started on a free port of 127.0.0.1 in a temp directory, killed
in the finalizer even when a test fails); each test starts from an empty server. The checks are
the embedded mode's end-to-end ones, plus what only a server can do: go away and come back.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.api import Assistant
from assistant.cli import main
from assistant.errors import IndexStateError, StoreUnavailable
from assistant.settings import Settings
from assistant.web import launch as web
from tests.conftest import DATA, SEED, SEED_ID

pytestmark = pytest.mark.server

SEED_QUESTION = "What has Russia offered in return?"
SEED_QUOTE = "It is not clear, however, what, if anything, Russia has offered in return"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ChromaServer:
    """``chroma run --path DIR --host 127.0.0.1 --port PORT``, stoppable and restartable."""

    def __init__(self, path: Path, port: int) -> None:
        self.path, self.port = path, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = path.parent / "chroma.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        exe = Path(sys.executable).parent / "chroma"
        if not exe.exists():
            pytest.fail(f"{exe} is missing: the chromadb package provides it (make setup)")
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(exe), "run", "--path", str(self.path), "--host", "127.0.0.1",
                 "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"chroma run exited with {self.proc.returncode}: {self.log.read_text()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"chroma run did not answer within {timeout:g} s: {self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.proc = None

    def wipe(self) -> None:
        """Delete every collection (each test starts from an empty server)."""
        import chromadb

        client = chromadb.HttpClient(host="127.0.0.1", port=self.port)
        for c in client.list_collections():
            client.delete_collection(c.name)

    def count(self) -> int:
        import chromadb

        client = chromadb.HttpClient(host="127.0.0.1", port=self.port)
        return sum(client.get_collection(c.name).count() for c in client.list_collections())


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    root = tmp_path_factory.mktemp("chroma-server")
    server = ChromaServer(root / "data", free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def server_url(chroma: ChromaServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """ASSISTANT_CHROMA_URL pointing at a running, empty server."""
    if chroma.proc is None:
        chroma.start()
    chroma.wipe()
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", chroma.url)
    return chroma.url


def run(*argv: str) -> int:
    return main(list(argv))


def test_every_command_against_the_server(
    server_url: str, chroma: ChromaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("add", str(SEED), str(DATA / "plain_globe.txt")) == 0
    assert capsys.readouterr().out.split() == [SEED_ID, "added", "plain_globe", "added"]
    assert not Path("indexes/chroma").exists()  # the vectors live on the server
    s = Settings.from_env()
    a = Assistant(s)
    passages = a.library.catalog.count_chunks()
    assert chroma.count() == passages > 30

    assert run("list", "--json") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["id"] for r in rows} == {SEED_ID, "plain_globe"}
    assert run("show", SEED_ID) == 0
    assert "Stefan Wolff" in capsys.readouterr().out

    assert run("ask", SEED_QUESTION, "--json") == 0
    ans = json.loads(capsys.readouterr().out)
    assert not ans["refused"] and ans["citations"][0]["article_id"] == SEED_ID
    assert SEED_QUOTE in ans["citations"][0]["quote"] and ans["citations"][0]["paragraph"] == 12

    assert run("remove", "plain_globe") == 0
    assert chroma.count() == a.library.catalog.count_chunks() < passages
    assert run("index", "--rebuild") == 0
    assert "1 (re)indexed" in capsys.readouterr().out
    assert chroma.count() == a.library.catalog.count_chunks()
    assert run("ask", SEED_QUESTION, "--json") == 0
    assert json.loads(capsys.readouterr().out)["citations"][0]["paragraph"] == 12
    a.close()


def test_embedded_index_is_not_mistaken_for_the_server(
    chroma: ChromaServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Switching an existing library to a server is explained; --rebuild moves it over."""
    chroma.wipe()
    assert run("add", str(SEED)) == 0  # embedded
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", chroma.url)
    capsys.readouterr()
    assert run("ask", SEED_QUESTION) == 1
    err = capsys.readouterr().err
    assert "vector store: embedded -> http://127.0.0.1" in err and "--rebuild" in err
    assert run("index", "--rebuild") == 0
    capsys.readouterr()
    assert run("ask", SEED_QUESTION, "--json") == 0
    assert json.loads(capsys.readouterr().out)["citations"][0]["article_id"] == SEED_ID


def test_server_down_is_a_clear_error_and_recovers(
    server_url: str, chroma: ChromaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("add", str(SEED)) == 0
    a = Assistant(Settings.from_env())  # one long session, like the web app
    assert a.ask(SEED_QUESTION).citations[0].paragraph == 12

    chroma.stop()
    capsys.readouterr()
    assert run("ask", SEED_QUESTION) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Cannot reach the Chroma server at " + server_url)
    assert "chroma run --path" in err and err.count("\n") == 1
    corpus_before = sorted(p.name for p in Path("corpus").iterdir())
    assert run("add", str(DATA / "plain_globe.txt")) == 1
    assert "Cannot reach the Chroma server" in capsys.readouterr().err
    assert sorted(p.name for p in Path("corpus").iterdir()) == corpus_before  # nothing written
    with pytest.raises(StoreUnavailable, match="Cannot reach the Chroma server"):
        a.ask(SEED_QUESTION)

    chroma.start()  # the same data directory and port: the server comes back
    assert a.ask(SEED_QUESTION).citations[0].paragraph == 12  # the same session recovers
    assert run("add", str(DATA / "plain_globe.txt")) == 0
    assert chroma.count() == a.library.catalog.count_chunks()
    a.close()


def test_wiped_server_is_detected_and_index_restores_it(
    server_url: str, chroma: ChromaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("add", str(SEED)) == 0
    chroma.wipe()  # someone deleted the collection, or pointed us at a fresh server
    with pytest.raises(IndexStateError, match=r"empty or missing.*Run: assistant index --rebuild"):
        Assistant(Settings.from_env()).ask(SEED_QUESTION)
    assert run("index") == 0  # the incremental sync notices the loss and re-embeds
    assert "1 (re)indexed" in capsys.readouterr().out
    assert run("ask", SEED_QUESTION, "--json") == 0
    assert json.loads(capsys.readouterr().out)["citations"][0]["paragraph"] == 12


def test_web_app_on_the_server(
    server_url: str, chroma: ChromaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    assert run("add", str(SEED)) == 0
    for key in ("ASSISTANT_AUTH", "ASSISTANT_ALLOW_PRIVATE_URLS", "ASSISTANT_PORT"):
        monkeypatch.delenv(key, raising=False)
    port = free_port()
    demo = web.serve(Settings.from_env(), host="127.0.0.1", port=port, block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        ans: Any = client.predict(SEED_QUESTION, api_name="/ask")
        assert ans["citations"][0]["article_id"] == SEED_ID and not ans["refused"]

        chroma.stop()
        with pytest.raises(AppError, match="Cannot reach the Chroma server"):
            client.predict(SEED_QUESTION, api_name="/ask")
        chroma.start()
        ans = client.predict(SEED_QUESTION, api_name="/ask")
        assert ans["citations"][0]["paragraph"] == 12
    finally:
        demo.close()


def test_two_libraries_share_one_server(
    server_url: str, chroma: ChromaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """ASSISTANT_CHROMA_COLLECTION keeps each library's vectors apart on a shared server."""
    monkeypatch.setenv("ASSISTANT_CHROMA_COLLECTION", "team-a")
    assert run("--corpus", "a/corpus", "--index", "a/indexes", "add", str(SEED)) == 0
    monkeypatch.setenv("ASSISTANT_CHROMA_COLLECTION", "team-b")
    assert (
        run("--corpus", "b/corpus", "--index", "b/indexes", "add", str(DATA / "plain_globe.txt"))
        == 0
    )
    assert run("--corpus", "b/corpus", "--index", "b/indexes", "index") == 0  # b's sync keeps a's
    monkeypatch.setenv("ASSISTANT_CHROMA_COLLECTION", "team-a")
    capsys.readouterr()
    assert run("--corpus", "a/corpus", "--index", "a/indexes", "ask", SEED_QUESTION, "--json") == 0
    ans = json.loads(capsys.readouterr().out)
    assert ans["citations"][0]["article_id"] == SEED_ID and not ans["refused"]
    assert run("--corpus", "a/corpus", "--index", "a/indexes", "index") == 0
    assert "0 (re)indexed" in capsys.readouterr().out  # nothing of a's was lost to b
    monkeypatch.setenv("ASSISTANT_CHROMA_COLLECTION", "no spaces/allowed")
    assert run("--corpus", "a/corpus", "--index", "a/indexes", "ask", SEED_QUESTION) == 1
    assert "ASSISTANT_CHROMA_COLLECTION" in capsys.readouterr().err
