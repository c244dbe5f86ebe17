"""memos.api.v1.AttachmentService: uploads and their metadata (``service``), and the rules a new
upload must pass before anything is stored (``upload``)."""
