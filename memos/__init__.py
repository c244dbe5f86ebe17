"""memos.pyz: Memos v0.30, wire- and data-compatible, as one Python executable."""

__version__ = "0.30.0"
