"""memos.api.v1.MemoService, one class per concern, each binding its own RPCs."""
