"""memos.api.v1.UserService, one class per concern (see lookup.py)."""
