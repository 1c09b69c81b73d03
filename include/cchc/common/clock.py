"""The pipeline's clock: times are stored in UTC without time zone, read in Hanoi time (UTC+7)."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

VN_TIME = dt.timedelta(hours=7)  # Asia/Ho_Chi_Minh, no daylight saving; times are stored in UTC


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


# Times a named step of a run (`with clock("read"): …`): the `clock=` parameter of the ingest and
# the consolidation, read by the benchmark and the DAG's logs.
StageClock = Callable[[str], AbstractContextManager]


def no_clock(_step: str) -> AbstractContextManager:
    """The StageClock that measures nothing: every `clock=` parameter's default."""
    return nullcontext()


class StageTimes:
    """A StageClock that adds up the seconds of each step (a chunk's read, validate, load…)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - t

    def rounded(self) -> dict[str, float]:
        return {k: round(v, 2) for k, v in self.seconds.items()}
