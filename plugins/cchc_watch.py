"""The landing folder's watcher: an event trigger that starts `cchc_ingest` seconds after a drop.

Airflow's event-driven scheduling runs this trigger in the triggerer (an AssetWatcher on the
`cchc_landing` asset, plugins/cchc_assets.py); each event it yields becomes an asset event, which
queues a `cchc_ingest` run. It lives in plugins/ because every Airflow process has this folder on
sys.path: the triggerer re-creates it from its class path `cchc_watch.LandingFolderTrigger`.

A file is announced once it is *settled*: named like a landing file (not a dot-file, not a `.part`
upload: `cchc.loading.landing.landing_files`) and with the same size and modification time for
`settle_seconds`. While any file is still changing, announcing waits (up to `max_wait_seconds`),
so a burst of 253 files copied together becomes one event, and one run, not 253. Each file (name,
size, modification time) is announced once; one that leaves the folder (taken by a run) and comes
back changed is announced again. After a triggerer restart the files still waiting are announced
once more: at worst one run that finds nothing new to take.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent


def snapshot(folder: str) -> dict[str, tuple[int, int]]:
    """{name: (size, mtime_ns)} of the files waiting in the landing folder (none if it is missing)."""
    from cchc.loading.landing import identity, landing_files

    path = Path(folder)
    if not path.is_dir():
        return {}
    found = {}
    for p in landing_files(path):
        ident = identity(p)
        if ident is not None:
            found[p.name] = ident
    return found


class LandingFolderTrigger(BaseEventTrigger):
    def __init__(
        self, path: str, poll_seconds: float = 1.0, settle_seconds: float = 2.0, max_wait_seconds: float = 30.0
    ) -> None:
        super().__init__()
        self.path = path
        self.poll_seconds = poll_seconds
        self.settle_seconds = settle_seconds
        self.max_wait_seconds = max_wait_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "cchc_watch.LandingFolderTrigger",
            {
                "path": self.path,
                "poll_seconds": self.poll_seconds,
                "settle_seconds": self.settle_seconds,
                "max_wait_seconds": self.max_wait_seconds,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        announced: set[tuple[str, tuple[int, int]]] = set()
        seen: dict[str, tuple[tuple[int, int], float]] = {}  # name -> (identity, when first seen so)
        waiting_since: float | None = None
        while True:
            files = await asyncio.to_thread(snapshot, self.path)  # a scan of 16k files: off the event loop
            now = time.monotonic()
            seen = {
                name: (ident, seen[name][1] if name in seen and seen[name][0] == ident else now)
                for name, ident in files.items()
            }
            announced &= set(files.items())
            ready = sorted(
                (name, ident)
                for name, (ident, since) in seen.items()
                if now - since >= self.settle_seconds and (name, ident) not in announced
            )
            changing = any(now - since < self.settle_seconds for _, since in seen.values())
            if ready:
                waiting_since = waiting_since or now
                if not changing or now - waiting_since >= self.max_wait_seconds:
                    announced.update(ready)
                    waiting_since = None
                    self.log.info(
                        "%d tệp mới trong %s / %d new file(s) in %s", len(ready), self.path, len(ready), self.path
                    )
                    yield TriggerEvent(
                        {
                            "landing": self.path,
                            "files": len(ready),
                            "bytes": sum(size for _, (size, _) in ready),
                            "names": [name for name, _ in ready[:10]],
                        }
                    )
            await asyncio.sleep(self.poll_seconds)
