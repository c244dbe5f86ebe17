"""The flags of `memos backup|restore|export|import` and running one of them.

Each takes the server's flags too (``--data``, ``--driver``, ``--dsn`` and their MEMOS_*
variables), so it works on exactly the instance the server would open. Failures are
one line on stderr: exit status 2 for bad input, 1 for anything else.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import pathlib
import signal
import sys
from types import FrameType

from memos.ops.common import OpsError, Progress
from memos.profile import Profile

DESCRIPTIONS = {
    "backup": "Copy the database (online, consistent while the server runs) and the local attachment files "
              "into one archive with a manifest of counts and checksums.",
    "restore": "Restore a backup archive into an empty data directory (or over a non-empty one with --force).",
    "export": "Write every memo (of one user, or of the whole instance) as a Markdown file with front matter, "
              "with its attachments and comments, into one zip.",
    "import": "Import a zip made by 'memos export', or a folder of plain Markdown files (one memo each).",
}


def add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    """Add the flags of operation ``name`` to a parser that already has the server's flags."""
    parser.description = DESCRIPTIONS[name] + " The server's flags and MEMOS_* variables choose the instance."
    quiet = "no progress output"
    if name == "backup":
        parser.add_argument("--output", "-o", dest="op_output", metavar="FILE",
                            help="archive to write (.tar, or .tar.gz/.tgz compressed); "
                                 "default memos-backup-<time>.tar.gz here")
    elif name == "restore":
        parser.add_argument("archive", metavar="ARCHIVE", help="a backup made by 'memos backup'")
        parser.add_argument("--force", action="store_true", help="restore into a non-empty data directory")
    elif name == "export":
        parser.add_argument("--user", dest="op_user", metavar="NAME", help="only this user's memos (and comments)")
        parser.add_argument("--output", "-o", dest="op_output", metavar="FILE",
                            help="zip to write; default memos-export-<time>.zip here")
    else:
        parser.add_argument("source", metavar="FILE_OR_FOLDER", help="an export zip, or a folder of Markdown files")
        parser.add_argument("--user", dest="op_user", metavar="NAME",
                            help="the user who receives the memos (required for a folder; "
                                 "for a zip: instead of each memo's own creator)")
    parser.add_argument("--quiet", "-q", dest="op_quiet", action="store_true", help=quiet)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # The same clean-up as Ctrl-C: temporary files are removed, nothing half-written stays.
    raise KeyboardInterrupt


def run(name: str, options: argparse.Namespace, profile: Profile) -> int:
    """Run operation ``name``; the exit status."""
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    progress = Progress(quiet=options.op_quiet)
    try:
        message = _dispatch(name, options, profile, progress)
    except OpsError as error:
        print(f"memos {name}: {error}", file=sys.stderr)
        return error.exit_status
    except KeyboardInterrupt:
        print(f"memos {name}: interrupted; nothing was left half-written", file=sys.stderr)
        return 130
    print(message)
    return 0


def _now_stamp() -> dt.datetime:
    return dt.datetime.now().astimezone()


def _dispatch(name: str, options: argparse.Namespace, profile: Profile, progress: Progress) -> str:
    if name == "backup":
        from memos.ops.backup import default_name, run_backup

        output = pathlib.Path(options.op_output or default_name(_now_stamp()))
        result = run_backup(profile, output, progress)
        counts = result.manifest["counts"]
        return (f"backup written to {result.path}: {counts['users']} users, {counts['memos']} memos, "
                f"{counts['attachments']} attachments, {counts['local_files']} local files")
    if name == "restore":
        from memos.ops.restore import run_restore

        manifest = run_restore(profile, pathlib.Path(options.archive), force=options.force, progress=progress)
        counts = manifest.get("counts", {})
        return (f"restored into {profile.data}: {counts.get('users', '?')} users, {counts.get('memos', '?')} memos, "
                f"{counts.get('attachments', '?')} attachments (backup of {manifest.get('created_at', '?')})")
    if name == "export":
        from memos.ops.export import default_export_name, run_export

        output = pathlib.Path(options.op_output or default_export_name(_now_stamp()))
        summary = asyncio.run(run_export(profile, output, options.op_user, progress))
        return f"exported {summary.memos} memos and {summary.attachments} attachments to {summary.path}"
    from memos.ops.import_ import run_import

    imported = asyncio.run(run_import(profile, pathlib.Path(options.source), options.op_user, progress))
    return f"imported {imported.memos} memos and {imported.attachments} attachments"
