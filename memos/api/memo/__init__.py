"""memos.api.v1.MemoService, one class per concern (see lookup.py)."""
