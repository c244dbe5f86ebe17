"""The progress display: a bar redrawn in place on a terminal, a few plain lines elsewhere."""
from __future__ import annotations

import io

from memos.ops.common import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_bar_redrawn_in_place() -> None:
    stream = _Terminal()
    progress = Progress(stream)
    progress.start("database", 4 * 1024 * 1024)
    for _ in range(4):
        progress.advance(1024 * 1024)
    progress.finish()
    text = stream.getvalue()
    assert text.endswith("100% 4.0 MiB / 4.0 MiB\n")
    assert text.count("\n") == 1 and text.count("\r") == 5


def test_a_log_gets_start_quarters_and_end() -> None:
    stream = io.StringIO()
    progress = Progress(stream)
    progress.start("exporting", 100, unit="memos")
    for _ in range(100):
        progress.advance(1)
    progress.finish()
    assert stream.getvalue().splitlines() == [
        "exporting: 100 memos", "exporting: 25%", "exporting: 50%", "exporting: 75%", "exporting: done",
    ]


def test_quiet_is_silent() -> None:
    stream = _Terminal()
    progress = Progress(stream, quiet=True)
    progress.start("x", 10)
    progress.advance(10)
    progress.finish()
    progress.line("hello")
    assert stream.getvalue() == ""
