"""Timestamp and duration literals, and calendar parts in UTC."""
from __future__ import annotations

import datetime

import pytest

from memos.filter.conditions import TimePart
from memos.filter.timevalues import MAX_TIMESTAMP, MIN_TIMESTAMP, parse_duration, parse_timestamp, time_part


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("24h", 86400), ("1h30m", 5400), ("1.5h", 5400), ("-30m", -1800), ("+5s", 5), ("0", 0),
        ("1.9s", 1), ("-1.9s", -1), ("1500ms", 1), ("2000000us", 2), ("3000000000ns", 3), ("1µs", 0),
        ("168h", 604800), ("1h1m1s1ms", 3661), (".5m", 30), ("2562047h", 2562047 * 3600),
    ],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "7d", "garbage", "1", "h", "1h-1m", "1 h", "-", ".h", "2562048h", "1e3s"])
def test_invalid_durations(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2025-01-01T00:00:00Z", 1735689600),
        ("2025-01-01T00:00:00.999Z", 1735689600),
        ("2025-01-01T02:00:00+02:00", 1735689600),
        ("2024-12-31T19:00:00-05:00", 1735689600),
        ("1970-01-01t00:00:00z", 0),
        ("0001-01-01T00:00:00Z", MIN_TIMESTAMP),
        ("9999-12-31T23:59:59Z", MAX_TIMESTAMP),
    ],
)
def test_timestamps(text: str, seconds: int) -> None:
    assert parse_timestamp(text) == seconds


@pytest.mark.parametrize(
    "text",
    ["2025-01-01", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z", "2025-01-01T00:00:00", "2025-01-01 00:00:00Z",
     "2025-01-01T00:00:00+24:00", "0001-01-01T00:00:00+01:00", "now"],
)
def test_invalid_timestamps(text: str) -> None:
    assert parse_timestamp(text) is None


def test_time_parts() -> None:
    moment = int(datetime.datetime(2024, 2, 29, 13, 14, 15, tzinfo=datetime.UTC).timestamp())  # a Thursday
    expected = {
        TimePart.YEAR: 2024, TimePart.MONTH: 1, TimePart.DATE: 29, TimePart.DAY_OF_MONTH: 28,
        TimePart.DAY_OF_WEEK: 4, TimePart.DAY_OF_YEAR: 59, TimePart.HOURS: 13, TimePart.MINUTES: 14,
        TimePart.SECONDS: 15,
    }
    assert {part: time_part(moment, part) for part in TimePart} == expected
    assert time_part(0, TimePart.DAY_OF_WEEK) == 4 and time_part(3 * 86400, TimePart.DAY_OF_WEEK) == 0
    assert time_part(MIN_TIMESTAMP, TimePart.YEAR) == 1 and time_part(MAX_TIMESTAMP, TimePart.YEAR) == 9999
