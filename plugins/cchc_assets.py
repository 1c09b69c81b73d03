"""The pipeline's assets, declared once; every cchc DAG imports them from here.

- `cchc_landing`: the folder units drop their workbooks into. Its watcher (cchc_watch) starts
  `cchc_ingest` seconds after files settle there. Only a local folder can be watched: with
  CCHC_LANDING_URL on an object store the asset has no watcher and the hourly run takes the files.
- `cchc_mailbox`: the office mailbox units e-mail their workbooks to (connection `cchc_imap`). Its
  watcher (cchc_watch.MailboxTrigger) starts `cchc_ingest` seconds after messages arrive; it is
  set only where the connection is given in the environment (AIRFLOW_CONN_CCHC_IMAP, as `make up`
  and docker-compose do), so a deployment without a mailbox polls nothing. The hourly run takes the
  mailbox whenever the connection exists.
- `cchc_warehouse`: the warehouse's submissions; `cchc_ingest` updates it, which starts the
  weekly roll-up.

plugins/ is on sys.path in every Airflow process, so DAG files and the triggerer import this module
by name. Cheap to import: no pandas, no database.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from airflow.sdk import Asset, AssetWatcher
from cchc_watch import LandingFolderTrigger, MailboxTrigger

from cchc.common.config import landing_url

WAREHOUSE = Asset(name="cchc_warehouse", uri="cchc://warehouse/submissions")


def landing_asset() -> Asset:
    url = landing_url()
    parts = urlsplit(url)
    if parts.scheme != "file":
        return Asset(name="cchc_landing", uri=url)
    watcher = AssetWatcher(
        name="cchc_landing_watcher",
        trigger=LandingFolderTrigger(
            path=unquote(parts.path), settle_seconds=float(os.environ.get("CCHC_LANDING_SETTLE_SECONDS", "2"))
        ),
    )
    return Asset(name="cchc_landing", uri=url, watchers=[watcher])


LANDING = landing_asset()

MAILBOX_CONN_ID = "cchc_imap"


def mailbox_asset() -> Asset:
    if not os.environ.get("AIRFLOW_CONN_" + MAILBOX_CONN_ID.upper()):
        return Asset(name="cchc_mailbox", uri="imap://cchc_imap/INBOX")
    trigger = MailboxTrigger(
        conn_id=MAILBOX_CONN_ID, poll_seconds=float(os.environ.get("CCHC_MAILBOX_POLL_SECONDS", "5"))
    )
    return Asset(
        name="cchc_mailbox",
        uri="imap://cchc_imap/INBOX",
        watchers=[AssetWatcher(name="cchc_mailbox_watcher", trigger=trigger)],
    )


MAILBOX = mailbox_asset()
