"""`python -m memos`: the same as the `memos` command."""
import sys

sys.dont_write_bytecode = False  # see memos.cli: the app's own bytecode cache is wanted

from memos.cli import main  # noqa: E402

raise SystemExit(main())
