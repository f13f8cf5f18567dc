"""Shared fixtures: a temp corpus and index per test, the real model exported once per session."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.ingest.sources import read_sources
from assistant.settings import Settings

DATA = Path(__file__).parent / "data"
SEED = DATA / "000_7112adcedfa7c1bb.txt"
SEED_ID = "000_7112adcedfa7c1bb"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export for the whole session (the real packaged model)."""
    shared = os.environ.get("ASSISTANT_TEST_MODEL_CACHE")
    return Path(shared) if shared else tmp_path_factory.mktemp("models")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path) -> Iterator[None]:
    """Every test runs in its own directory with a fresh corpus/ and indexes/."""
    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(model_cache))
    monkeypatch.setenv("ASSISTANT_CORPUS", str(tmp_path / "corpus"))
    monkeypatch.setenv("ASSISTANT_INDEX", str(tmp_path / "indexes"))
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture
def assistant(settings: Settings) -> Iterator[Assistant]:
    a = Assistant(settings)
    yield a
    a.close()


def build_library(root: Path, model_cache: Path, sources: list[Path]) -> Settings:
    """A corpus and index under ``root`` holding ``sources`` (all must be added)."""
    s = Settings.from_env(
        {"ASSISTANT_MODEL_CACHE": str(model_cache)},
        corpus_dir=root / "corpus",
        index_dir=root / "indexes",
    )
    a = Assistant(s)
    results = a.add(read_sources([str(p) for p in sources], s.ingest))
    assert all(r.status == "added" for r in results), results
    a.close()
    return s


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Path:
    """A corpus + index holding the seed and the other test articles, built once per session."""
    root = tmp_path_factory.mktemp("seeded")
    others = ("plain_globe.txt", "html_with_nav.html", "markdown_frontmatter.md")
    build_library(root, model_cache, [SEED, *(DATA / n for n in others)])
    return root


@pytest.fixture
def seeded(seeded_template: Path, tmp_path: Path) -> Iterator[Assistant]:
    """A copy of the seeded library for one test (tests may change it)."""
    for name in ("corpus", "indexes"):
        shutil.copytree(seeded_template / name, tmp_path / name, dirs_exist_ok=True)
    a = Assistant(Settings.from_env())
    yield a
    a.close()


@contextlib.contextmanager
def served_app(settings: Settings) -> Iterator[str]:
    """The real web app over ``settings``' library on a free local port: its URL, closed after.
    Login, private-URL and port variables of the environment are ignored, as in a test."""
    from assistant.web.launch import serve

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with pytest.MonkeyPatch.context() as mp:
        for key in ("ASSISTANT_AUTH", "ASSISTANT_ALLOW_PRIVATE_URLS", "ASSISTANT_PORT"):
            mp.delenv(key, raising=False)
        demo = serve(settings, host="127.0.0.1", port=port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
