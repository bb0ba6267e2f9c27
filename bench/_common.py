"""What every benchmark here shares: the peak resident memory of this process, sampled in a
thread (psutil), and its CPU seconds (every thread; on a machine other work shares, a steadier
measure than wall seconds).

    with PeakRSS() as mem:        # one block
        ...
    mem.start, mem.peak           # bytes: at entry, the largest seen

    peak = PeakRSS().begin()      # several stages in a row (bench/nightly.py)
    peak.reset(); ...; peak.mb(), peak.cpu_s()

Scripts run as ``python bench/<name>.py`` have this folder on sys.path: ``from _common import
PeakRSS``.
"""

from __future__ import annotations

import resource
import threading
import time
from typing import Any

import psutil


def cpu_s() -> float:
    """CPU seconds of this process so far (user + system, every thread)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def maxrss_mb() -> float:
    """The process's peak RSS so far (the kernel's ru_maxrss), in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PeakRSS:
    """The peak RSS of this process, sampled every ``every_s`` seconds in a daemon thread."""

    def __init__(self, every_s: float = 0.01) -> None:
        self._proc = psutil.Process()
        self.every_s = every_s
        self.start = self.peak = self._proc.memory_info().rss
        self._cpu0 = cpu_s()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def begin(self) -> PeakRSS:
        self._stop.clear()
        self.reset()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def end(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        return self.begin()

    def __exit__(self, *exc: object) -> None:
        self.end()

    def reset(self) -> None:
        """Start a new stage: the peak and the CPU clock from now."""
        self.start = self.peak = self._proc.memory_info().rss
        self._cpu0 = cpu_s()

    def cpu_s(self) -> float:
        """CPU seconds of this process since the last reset."""
        return cpu_s() - self._cpu0

    def mb(self) -> float:
        """The peak since the last reset, in MiB."""
        self.peak = max(self.peak, self._proc.memory_info().rss)
        return self.peak / 2**20


def timed_detect(det: Any, con: Any, ws: Any, we: Any) -> tuple[Any, Any, float, float]:
    """Run ``det`` once with its default parameters over the window ``[ws, we)`` of ``con``:
    (its context, its result, wall seconds, the RSS growth above the start in MiB)."""
    from abuse.detect.base import DetectContext

    ctx = DetectContext(con, ws, we, "Asia/Shanghai", det.Params())
    base_rss = psutil.Process().memory_info().rss
    with PeakRSS() as rss:
        t0 = time.perf_counter()
        res = det.detect(ctx)
        secs = time.perf_counter() - t0
    return ctx, res, secs, (rss.peak - base_rss) / 2**20
