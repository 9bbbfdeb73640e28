"""Watch folders and keep the library up to date: new, changed, moved and deleted files are re-indexed
incrementally, by polling (portable, no dependency, works on network shares where change events do not).

Each poll takes a snapshot (path → size, mtime) of the folders. A path whose stat differs from the previous
poll is *pending*; it *settles* once its stat (or its absence) has not changed for a while (two polls at least),
so a file still being copied or recorded waits until it stops growing. Settled changes are handed to the indexer,
which leaves the unsettled ones alone (neither embedded nor tombstoned) until a later poll. A move appears as one
path gone and one new in the same poll: both settle together, so the indexer sees the move and keeps the vectors.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from worker.jobs import Job
from worker.library.indexer import IndexReport, Unsettled
from worker.library.scan import Found, scan

POLL_INTERVAL_S = 2.0
CANCEL_POLL_S = 0.1  # a cancel stops a wait between polls this fast
MAX_POLL_SHARE = 0.1  # polling takes at most this share of a core: a huge library is polled less often
STATUS_EVERY_S = 60.0  # an unchanged status line is repeated this often (a log shows the watch is alive)

Stat = tuple[int, int]
Snapshot = dict[str, Stat]
IndexRun = Callable[[Unsettled], IndexReport]


def snapshot(roots: Sequence[str]) -> Snapshot:
    """(size, mtime_ns) of every media file under `roots` (unreadable folders are the indexer's to report)."""
    return {item.path: (item.size, item.mtime_ns) for item in scan(roots) if isinstance(item, Found)}


class ChangeTracker:
    """Pending and settled paths from consecutive snapshots. Starts empty, so every file is new at first.

    A pending path settles once its stat (or its absence) has stayed the same for `settle_s` (at least two polls).
    """

    def __init__(self, settle_s: float = 0.0) -> None:
        self.settle_s = settle_s
        self.previous: Snapshot = {}
        self.changed_at: dict[str, float] = {}  # pending paths (changed since the last index run): last change
        self.now = 0.0

    def observe(self, current: Snapshot, now: float) -> None:
        for path in current.keys() | self.previous.keys():
            if current.get(path) != self.previous.get(path):
                self.changed_at[path] = now
        self.previous, self.now = current, now

    @property
    def pending(self) -> set[str]:
        return set(self.changed_at)

    @property
    def ready(self) -> bool:
        """Some pending change has settled: an index run has work to do."""
        return any(not self._changing(p) for p in self.changed_at)

    def unsettled(self, path: str, stat: Stat | None) -> bool:
        """For the indexer: still changing at the latest poll, or changed since (its stat differs from the poll's)."""
        return self._changing(path) or self.previous.get(path) != stat

    def indexed(self) -> None:
        """An index run took the settled changes; the unsettled ones stay pending."""
        self.changed_at = {p: t for p, t in self.changed_at.items() if self._changing(p)}

    def _changing(self, path: str) -> bool:
        changed = self.changed_at.get(path)
        return changed is not None and (changed == self.now or self.now - changed < self.settle_s)


@dataclass
class WatchSummary:
    """What the watch has done so far, for its status line."""

    runs: int = 0
    indexed: int = 0
    last: IndexReport | None = None

    def add(self, report: IndexReport) -> None:
        self.runs += 1
        self.indexed += report.indexed
        self.last = report


def watch(roots: Sequence[str], index: IndexRun, *, job: Job, interval_s: float = POLL_INTERVAL_S,
          settle_s: float | None = None, on_run: Callable[[IndexReport], None] | None = None,
          busy: type[Exception] | None = None) -> NoReturn:
    """Poll `roots` every `interval_s` (less often when one scan takes more than MAX_POLL_SHARE of that) and call
    `index(unsettled)` whenever settled changes are pending, until the job is cancelled (then it raises Cancelled,
    as every job does; what was indexed stays). A file settles when it has not changed for `settle_s` (default:
    one interval). An `index` that raises `busy` (e.g. another writer holds the library) is retried next poll."""
    tracker = ChangeTracker(interval_s if settle_s is None else settle_s)
    summary = WatchSummary()
    roots = list(roots)
    said, said_at = "", float("-inf")
    while True:
        job.checkpoint()
        polled = time.monotonic()
        tracker.observe(snapshot(roots), polled)
        wait = max(interval_s, (time.monotonic() - polled) / MAX_POLL_SHARE)
        if tracker.ready:
            try:
                report = index(tracker.unsettled)
            except Exception as exc:
                if busy is None or not isinstance(exc, busy):
                    raise
                job.progress("watch", 1.0, f"library busy, retrying: {exc}")
            else:
                tracker.indexed()
                summary.add(report)
                if on_run is not None:
                    on_run(report)
        status = _status(len(tracker.previous), len(roots), tracker, summary)
        if status != said or time.monotonic() - said_at >= STATUS_EVERY_S:
            job.progress("watch", 1.0, status)
            said, said_at = status, time.monotonic()
        _sleep(wait, job)


def _status(files: int, roots: int, tracker: ChangeTracker, summary: WatchSummary) -> str:
    text = f"watching {files} files in {roots} folder{'s' if roots != 1 else ''}"
    if tracker.pending:
        text += f", {len(tracker.pending)} still changing"
    last = summary.last
    if last is not None:
        text += (f"; {summary.indexed} indexed since the start; last update: {last.indexed} indexed, "
                 f"{last.moved} moved, {last.deleted} removed, {len(last.errors)} unreadable")
    return text


def _sleep(seconds: float, job: Job) -> None:
    deadline = time.monotonic() + seconds
    while True:
        job.checkpoint()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, CANCEL_POLL_S))
