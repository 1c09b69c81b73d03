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


def inbox_uids(conn_id: str) -> set[str]:
    """The UIDs of the messages waiting in the office mailbox's inbox (read-only: nothing marked read)."""
    from airflow.providers.imap.hooks.imap import ImapHook  # deferred: the provider loads only in the triggerer

    with ImapHook(imap_conn_id=conn_id) as hook:
        client = hook.mail_client
        client.select("INBOX", readonly=True)
        typ, data = client.uid("SEARCH", None, "ALL")
        return set(data[0].decode().split()) if typ == "OK" and data and data[0] else set()


class MailboxTrigger(BaseEventTrigger):
    """The office mailbox's watcher: an event seconds after new messages arrive in its inbox.

    A short poll (`poll_seconds`) rather than IMAP IDLE: Python's imaplib has no IDLE before 3.14,
    and a poll of a few seconds meets "within seconds" at the cost of one SEARCH per poll. Like the
    landing folder's watcher, a burst (253 messages appended together) is one event once no new
    message has come for `settle_seconds` (at most `max_wait_seconds` of waiting). A mailbox that
    cannot be reached is logged and tried again at the next poll; the hourly run is the safety net.
    """

    def __init__(
        self,
        conn_id: str = "cchc_imap",
        poll_seconds: float = 5.0,
        settle_seconds: float = 2.0,
        max_wait_seconds: float = 30.0,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.poll_seconds = poll_seconds
        self.settle_seconds = settle_seconds
        self.max_wait_seconds = max_wait_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "cchc_watch.MailboxTrigger",
            {
                "conn_id": self.conn_id,
                "poll_seconds": self.poll_seconds,
                "settle_seconds": self.settle_seconds,
                "max_wait_seconds": self.max_wait_seconds,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        announced: set[str] = set()
        waiting: set[str] = set()  # new messages not announced yet
        changed = first = 0.0  # when `waiting` last grew; when it began
        while True:
            try:
                uids = await asyncio.to_thread(inbox_uids, self.conn_id)
            except Exception as exc:  # noqa: BLE001 - the server may be down for a while: poll again
                self.log.warning("Không đọc được hộp thư / mailbox not readable (%s): %s", self.conn_id, exc)
                await asyncio.sleep(max(self.poll_seconds, 30.0))
                continue
            now = time.monotonic()
            announced &= uids  # taken by a run; a message put back in the inbox is announced again
            fresh = uids - announced
            if fresh - waiting:
                first = first if waiting else now
                changed = now
            waiting = fresh
            if waiting and (now - changed >= self.settle_seconds or now - first >= self.max_wait_seconds):
                announced |= waiting
                self.log.info("%d thư mới / %d new message(s) in %s", len(waiting), len(waiting), self.conn_id)
                yield TriggerEvent({"mailbox": self.conn_id, "messages": len(waiting)})
                waiting = set()
            # Settling is counted in seconds: poll every second while messages wait.
            await asyncio.sleep(min(self.poll_seconds, 1.0) if waiting else self.poll_seconds)
