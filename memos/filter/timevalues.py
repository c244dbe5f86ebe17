"""Timestamp and duration literals, as whole Unix seconds, with CEL's ranges."""
from __future__ import annotations

import datetime
import re

from memos.filter.conditions import TimePart

# CEL timestamps span years 0001 to 9999.
MIN_TIMESTAMP = -62_135_596_800
MAX_TIMESTAMP = 253_402_300_799
# Go durations are int64 nanoseconds.
MAX_DURATION_NANOS = 2**63 - 1

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})"
)
_DURATION_PART = re.compile(r"(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NANOS = {
    "ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
    "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
}
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def in_timestamp_range(seconds: int) -> bool:
    return MIN_TIMESTAMP <= seconds <= MAX_TIMESTAMP


def parse_timestamp(text: str) -> int | None:
    """Unix seconds of an RFC 3339 timestamp (fractions dropped), None when it is not one."""
    match = _RFC3339.fullmatch(text)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    try:
        moment = datetime.datetime(year, month, day, hour, minute, min(second, 59), tzinfo=datetime.UTC)
    except ValueError:
        return None
    offset = match.group(8)
    seconds = _whole_seconds(moment) + (1 if second == 60 else 0)
    if offset not in ("Z", "z"):
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            return None
        seconds -= sign * (hours * 3600 + minutes * 60)
    return seconds if in_timestamp_range(seconds) else None


def parse_duration(text: str) -> int | None:
    """Whole seconds (truncated toward zero) of a Go duration such as ``1h30m`` or ``-1.5h``."""
    body = text
    sign = 1
    if body[:1] in ("+", "-"):
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body == "0":
        return 0
    if not body:
        return None
    nanos = 0
    position = 0
    while position < len(body):
        match = _DURATION_PART.match(body, position)
        if not match or not (match.group(1) or match.group(2)):
            return None
        nanos += _part_nanos(match.group(1), match.group(2) or "", _UNIT_NANOS[match.group(3)])
        if nanos > MAX_DURATION_NANOS:
            return None
        position = match.end()
    whole = nanos // 1_000_000_000
    return sign * whole


def _part_nanos(whole: str, fraction: str, unit: int) -> int:
    value = int(whole or "0") * unit
    if fraction:
        value += int(fraction) * unit // 10 ** len(fraction)
    return value


def _whole_seconds(moment: datetime.datetime) -> int:
    return (moment - _EPOCH) // datetime.timedelta(seconds=1)


def time_part(seconds: int, part: TimePart) -> int:
    """The calendar part of a Unix time in UTC, numbered as the CEL accessor numbers it."""
    moment = _EPOCH + datetime.timedelta(seconds=seconds)
    values = {
        TimePart.YEAR: moment.year,
        TimePart.MONTH: moment.month - 1,
        TimePart.DATE: moment.day,
        TimePart.DAY_OF_MONTH: moment.day - 1,
        TimePart.DAY_OF_WEEK: (moment.weekday() + 1) % 7,
        TimePart.DAY_OF_YEAR: moment.timetuple().tm_yday - 1,
        TimePart.HOURS: moment.hour,
        TimePart.MINUTES: moment.minute,
        TimePart.SECONDS: moment.second,
    }
    return values[part]
