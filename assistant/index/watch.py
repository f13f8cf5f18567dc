"""Watching the corpus: ``Watcher`` keeps the index in line in the background.

The web app, ``assistant serve``, ``assistant watch`` (and any other long-running face) start one;
questions then never scan the corpus. File events (inotify where the system has it, else a
poll of the directories every few seconds) only mark the library dirty; a worker thread waits
until the events have stopped for ``delay`` seconds, then brings the index in line
(``Library.sync``, under the library's write lock: one writer at a time, as everywhere).

An ``inbox`` directory, when given, takes any ``.txt``, ``.md``, ``.html`` or ``.jsonl`` file:
it is cleaned and stored like ``assistant add`` would, then removed from the inbox; a file that
brought nothing new (an error, a near-duplicate) moves to ``inbox/failed/`` beside a
``NAME.why.txt`` that says what happened.

>>> w = Watcher(library, inbox=Path("inbox"), report=print).start()   # doctest: +SKIP
>>> ...                                                                 # doctest: +SKIP
>>> w.stop()                                                            # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError, InputError
from assistant.text import count

if TYPE_CHECKING:
    from assistant.index.sync import Library
    from assistant.settings import Settings

MODES = ("auto", "poll", "off")
INBOX_TYPES = (".txt", ".md", ".html", ".jsonl")
POLL_SECONDS = 2.0  # the polling fallback looks at every file this often (costly at 100k)
RETRY_SECONDS = 10.0  # after a failed catch-up (a Chroma server down, say), try again this late
# after this long without changes, the few newest vectors a small sync left outside Chroma's
# written graph are written into it (Library.settle: then every process finds the same nearest
# passages; a sync of 100+ vectors does it at once, vectors.SETTLE_AFTER)
SETTLE_IDLE = 30.0


class Watcher:
    """Keeps ``library``'s index in line with its corpus (and empties ``inbox``) while it runs.

    ``mode``: "auto" (inotify, else polling), "poll" (always poll: network file systems, where
    inotify misses other machines' writes). ``report`` gets one line per thing that happened.
    """

    def __init__(
        self,
        library: Library,
        inbox: Path | None = None,
        mode: str = "auto",
        delay: float = 0.5,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.library = library
        self.corpus = library.settings.corpus_dir
        self.inbox = inbox
        self.mode = mode
        self.delay = delay
        self.settle_idle = SETTLE_IDLE
        self.report = report or (lambda line: None)
        self.how = ""  # "inotify" or "polling", once started
        self._observer: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._last_event = 0.0
        # what changed since the last catch-up: article ids from file events, or "everything"
        # (the first catch-up, lost events, a failure): a full sync scans every file (~1 s at
        # 100k articles), the articles alone need only their own files looked at
        self._pending_lock = threading.Lock()
        self._ids: set[str] = set()
        self._full = True

    # -- start and stop ------------------------------------------------------------------------
    def start(self) -> Watcher:
        """Watch from now on, after one catch-up with what changed while nobody watched."""
        for folder in self._folders():
            folder.mkdir(parents=True, exist_ok=True)
        # events name paths as they were scheduled: absolute ones compare whatever the cwd
        self.corpus = self.corpus.resolve()
        self.inbox = self.inbox.resolve() if self.inbox is not None else None
        self._observer = self._observe()
        self._thread = threading.Thread(target=self._run, name="corpus-watcher", daemon=True)
        self._thread.start()
        self.library.watcher = self
        self.changed()  # files dropped while nothing watched: the first catch-up takes them
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop watching; a catch-up under way finishes first (a crash would be safe too: the
        next sync repairs it, but a clean stop leaves nothing to repair)."""
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
        if self.library.watcher is self:
            self.library.watcher = None

    def changed(self, ids: Iterable[str] | None = None) -> None:
        """Note that something changed: these articles' files (``ids``), or anything (None)."""
        with self._pending_lock:
            if ids is None:
                self._full = True
            else:
                self._ids.update(ids)
        self._last_event = time.monotonic()
        self._idle.clear()
        self._wake.set()

    def flush(self, timeout: float = 60.0) -> bool:
        """Wait until what changed so far is in the index (True), or ``timeout`` passed."""
        return self._idle.wait(timeout)

    # -- the file events -----------------------------------------------------------------------
    def _folders(self) -> list[Path]:
        return [self.corpus] + ([self.inbox] if self.inbox is not None else [])

    def _observe(self) -> Any:
        """A started watchdog observer of the corpus and the inbox: inotify unless it cannot
        be had (or polling was asked for)."""
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        on_event = self._on_event

        class Handler(FileSystemEventHandler):
            def dispatch(self, event: Any) -> None:
                on_event(event)

        handler = Handler()
        if self.mode != "poll":
            observer = Observer()
            try:
                for folder in self._folders():
                    observer.schedule(handler, str(folder), recursive=False)
                observer.start()
                self.how = "inotify" if "inotify" in type(observer).__name__.lower() else "events"
                return observer
            except OSError as e:  # inotify watches or instances used up (ENOSPC, EMFILE)
                self.report(f"note: file events unavailable ({e.strerror or e}); polling instead")
        observer = PollingObserver(timeout=POLL_SECONDS)
        for folder in self._folders():
            observer.schedule(handler, str(folder), recursive=False)
        observer.start()
        self.how = "polling"
        return observer

    def _on_event(self, event: Any) -> None:
        """Wake the worker for an event that matters (watchdog calls this on its thread)."""
        if event.event_type in ("opened", "closed_no_write"):
            return
        if type(event).__name__ == "EventsLostEvent":  # the kernel's queue overflowed
            self.changed()
            return
        paths = [Path(_text(p)) for p in (event.src_path, getattr(event, "dest_path", "")) if p]
        with contextlib.suppress(Exception):  # never let a path oddity stop the observer
            wanted = [p for p in paths if self.wants(str(p))]
            if any(p in (self.corpus, self.inbox) for p in wanted):
                if event.event_type in ("deleted", "moved"):  # a folder itself went away
                    self.changed()
                return  # "modified" on a folder comes with each file event inside it
            if wanted:
                self.changed([p.stem for p in wanted if p.parent == self.corpus])

    def wants(self, path: str) -> bool:
        """True for a file event that may change the library: an article file of the corpus, a
        file of the inbox, either folder itself (hidden and temp files are ours or an editor's)."""
        p = Path(path)
        if p.name.startswith(".") or p.name.endswith((".tmp", ".swp", "~")):
            return False
        if p in (self.corpus, self.inbox):
            return True
        if p.parent == self.corpus:
            return p.suffix == ".md"
        return self.inbox is not None and p.parent == self.inbox and p.suffix in INBOX_TYPES

    # -- the worker ----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._wake.wait(self.settle_idle if self._unsettled() else None):
                self._settle()  # quiet for a while: the newest vectors into the written graph
                continue
            while not self._stop.is_set():  # debounce: until the events stop for ``delay``
                quiet = time.monotonic() - self._last_event
                if quiet >= self.delay:
                    break
                self._stop.wait(self.delay - quiet)
            if self._stop.is_set():
                return
            self._wake.clear()
            with self._pending_lock:
                ids, full = sorted(self._ids), self._full
                self._ids, self._full = set(), False
            if self._catch_up(None if full else ids):
                if not self._wake.is_set():
                    self._idle.set()
            else:  # try again later (a full sync: what failed is not known), unless told to stop
                self._stop.wait(RETRY_SECONDS)
                self.changed()

    def _unsettled(self) -> bool:
        try:
            return self.library.unsettled() > 0
        except Exception:  # a catalog being replaced, say: the next round asks again
            return False

    def _settle(self) -> None:
        try:
            self.library.settle()
        except Exception as e:  # the graph stays as Chroma keeps it; answers are still right
            self.report(f"error: the vector graph could not be written ({type(e).__name__}: {e})")

    def _catch_up(self, ids: list[str] | None) -> bool:
        """Empty the inbox, then bring the index in line (``ids``: only these articles changed,
        every other change having come as an event too); False when it failed (reported)."""
        started = time.perf_counter()
        try:
            self._take_inbox()
            report = self.library.sync(only=ids)
        except AssistantError as e:
            self.report(f"error: {e}")
            return False
        except Exception as e:  # a background thread must not die of one bad file
            self.report(f"error: the index could not be brought in line ({type(e).__name__}: {e})")
            return False
        if report.indexed or report.removed:
            self.report(
                f"index in line: {report.indexed} (re)indexed ({count(report.passages, 'passage')}), "
                f"{report.removed} removed in {time.perf_counter() - started:.1f} s"
            )
        for problem in report.problems:
            self.report(f"problem: {problem}")
        for note in report.notes:
            self.report(f"note: {note}")
        return True

    def _take_inbox(self) -> None:
        """Add every file waiting in the inbox, each like ``assistant add FILE``."""
        if self.inbox is None or not self.inbox.is_dir():
            return
        from assistant.ingest.sources import read_sources

        files = sorted(p for p in self.inbox.iterdir() if p.is_file() and self.wants(str(p)))
        for path in files:
            if self._stop.is_set():
                return
            results = self.library.add(read_sources([str(path)], self.library.settings.ingest))
            lines = [r.line() for r in results]
            for line in lines:
                self.report(line)
            done = all(
                r.status == "added"
                or (r.status == "duplicate" and "near-duplicate" not in r.message)
                for r in results
            )
            if done:  # in the corpus now (or it already was): the inbox copy has done its job
                path.unlink(missing_ok=True)
            else:
                failed = self.inbox / "failed"
                failed.mkdir(exist_ok=True)
                path.replace(failed / path.name)
                (failed / f"{path.name}.why.txt").write_text("\n".join(lines) + "\n")


def watcher_for(
    library: Library, settings: Settings, report: Callable[[str], None] | None = None
) -> Watcher | None:
    """A started Watcher as ``settings.watch`` asks (None when it says "off"); InputError for
    a mode it does not know. The one way every long-running face starts one."""
    w = settings.watch
    if check_mode(settings) == "off":
        return None
    return Watcher(library, w.inbox, w.mode, w.delay, report).start()


def check_mode(settings: Settings) -> str:
    """The watch mode of ``settings``; InputError when it is not one of MODES (told at start,
    before anything is launched)."""
    if settings.watch.mode not in MODES:
        raise InputError(
            f"ASSISTANT_WATCH={settings.watch.mode!r}: expected one of {', '.join(MODES)} "
            "(auto: file events, else polling)."
        )
    return settings.watch.mode


def _text(path: str | bytes) -> str:
    return path.decode(errors="replace") if isinstance(path, bytes) else path
