"""Progress for logs: a line at least every few seconds where a terminal would show a bar.

A bulk ``assistant add`` whose stderr is a file (cron, CI, ``2> log``) used to print nothing for
the whole indexing run: tqdm draws nothing off a terminal. ``LineProgress`` has tqdm's
``update``/``close`` and prints ``indexing: 120/1,200 (10%), 0:45 elapsed`` from a daemon thread
every ``every`` seconds (``EVERY``, 10) while open, so a slow step still reports, and a last
line on close when it printed any: a run shorter than that stays quiet, as before.

>>> import io
>>> out = io.StringIO()
>>> bar = LineProgress(3, "indexing", out, every=60)
>>> bar.update(3)
>>> bar.close()
>>> out.getvalue()
''
"""

from __future__ import annotations

import threading
import time
from typing import TextIO

EVERY = 10.0  # seconds between lines


class LineProgress:
    """tqdm's ``update``/``close`` as lines on ``stream``: at least one every ``every`` s."""

    def __init__(
        self, total: int | None, desc: str, stream: TextIO, every: float | None = None
    ) -> None:
        self.total, self.desc, self.stream = total, desc, stream
        self.every = EVERY if every is None else every
        self.n = 0
        self.printed = False
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name=f"progress-{desc}", daemon=True)
        if self.every > 0:  # 0: one line at the end only (tests)
            self._thread.start()

    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        if self.printed or time.monotonic() - self.started >= self.every:
            self._line(done=True)  # a run shorter than one interval stays quiet

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tick(self) -> None:
        while not self._stop.wait(self.every):
            self._line()

    def _line(self, done: bool = False) -> None:
        elapsed = int(time.monotonic() - self.started)
        clock = f"{elapsed // 60}:{elapsed % 60:02d}"
        if self.total:
            pct = min(100, 100 * self.n // self.total)
            so_far = f"{self.n:,}/{self.total:,} ({pct}%)"
        else:
            so_far = f"{self.n:,}"
        when = f"done in {clock}" if done else f"{clock} elapsed"
        try:
            print(f"{self.desc}: {so_far}, {when}", file=self.stream, flush=True)
            self.printed = True
        except (OSError, ValueError):  # the stream went away (a closed pipe): stop reporting
            self._stop.set()
