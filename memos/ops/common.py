"""What the operations share: their error, a progress display, files that appear only when
complete, streamed checksums, and the store opened the way the server opens it."""
from __future__ import annotations

import contextlib
import hashlib
import os
import pathlib
import sys
import tempfile
from collections.abc import Iterator
from typing import BinaryIO, TextIO

from memos.profile import Profile
from memos.store import Store

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
CHUNK = 1024 * 1024
MIB = 1024 * 1024


class OpsError(Exception):
    """An operation cannot go on; the message is the one line the user sees."""

    def __init__(self, message: str, exit_status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_status = exit_status


def bad_input(message: str) -> OpsError:
    return OpsError(message, EXIT_BAD_INPUT)


class Progress:
    """A bar redrawn in place on a terminal; otherwise a plain line at start, every quarter and end.

    Phases are counted in bytes (or items); nothing is shown for a phase of size 0.
    """

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._tty = self._stream.isatty()
        self._quiet = quiet
        self._phase = ""
        self._total = 0
        self._done = 0
        self._shown = -1
        self._unit = "bytes"

    def start(self, phase: str, total: int, unit: str = "bytes") -> None:
        self._phase, self._total, self._done, self._shown, self._unit = phase, total, 0, -1, unit
        if not self._tty:
            self.line(f"{phase}: {self._amount(total)}")
        self._draw()

    def advance(self, amount: int) -> None:
        self._done += amount
        self._draw()

    def finish(self) -> None:
        if self._tty and not self._quiet and self._shown >= 0:
            self._stream.write("\n")
            self._stream.flush()
        elif not self._tty and self._total:
            self.line(f"{self._phase}: done")
        self._shown = -1

    def line(self, text: str) -> None:
        if not self._quiet:
            print(text, file=self._stream, flush=True)

    def _amount(self, value: int) -> str:
        if self._unit == "bytes":
            return f"{value / MIB:.1f} MiB"
        return f"{value} {self._unit}"

    def _draw(self) -> None:
        if self._quiet or not self._total:
            return
        percent = min(100, self._done * 100 // self._total)
        if self._tty:
            if percent == self._shown:
                return
            filled = percent * 30 // 100
            bar = "#" * filled + "-" * (30 - filled)
            self._stream.write(
                f"\r{self._phase:<12} [{bar}] {percent:3d}% {self._amount(self._done)} / {self._amount(self._total)}"
            )
            self._stream.flush()
        elif percent // 25 > max(self._shown, 0) // 25 and percent < 100:
            self.line(f"{self._phase}: {percent}%")
        self._shown = percent


class HashingReader:
    """A file read through: every byte read counts into a SHA-256 and the progress."""

    def __init__(self, file: BinaryIO, progress: Progress | None = None) -> None:
        self._file = file
        self._progress = progress
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self.digest.update(data)
        self.size += len(data)
        if self._progress is not None:
            self._progress.advance(len(data))
        return data

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def sha256_of(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def file_written_whole(target: pathlib.Path) -> Iterator[pathlib.Path]:
    """A temporary path beside ``target`` to write; renamed to ``target`` only when the block succeeds.

    On any failure, Ctrl-C included, the temporary file is removed and ``target`` is untouched.
    """
    if target.is_dir():
        raise bad_input(f"{target} is a directory; name the file to write")
    if not target.parent.is_dir():
        raise bad_input(f"the directory {target.parent} does not exist")
    descriptor, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(descriptor)
    temporary = pathlib.Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o600)  # a backup holds every password hash and secret of the instance
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


async def open_store(profile: Profile) -> Store:
    """The instance's store, opened (and migrated) exactly as the server opens it."""
    if profile.driver == "sqlite" and not os.path.exists(profile.dsn):
        raise bad_input(f"there is no database at {profile.dsn}; check --data or --dsn")
    return await Store.open(profile.driver, profile.dsn, demo=False, deployment_dir=profile.deployment_dir)
