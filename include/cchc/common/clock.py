"""The pipeline's clock: times are stored in UTC without time zone, read in Hanoi time (UTC+7)."""

from __future__ import annotations

import datetime as dt

VN_TIME = dt.timedelta(hours=7)  # Asia/Ho_Chi_Minh, no daylight saving; times are stored in UTC


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
