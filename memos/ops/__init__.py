"""Operations on a whole instance, run from the command line beside (or instead of) the server.

``memos backup`` and ``memos restore`` copy a data directory (the database, taken
online through SQLite's backup API, and the LOCAL attachment files) into one archive
and back; ``memos export`` and ``memos import`` move memos, their comments and their
attachments between instances as Markdown files in a zip. Each lives in its own
module; ``command`` parses their flags. Nothing here is imported by the server.
"""
from __future__ import annotations

OPERATIONS = ("backup", "restore", "export", "import")
