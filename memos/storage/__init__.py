"""Where attachment content lives: in the database row, in files under the data directory, or in
S3-compatible object storage (``attachments.AttachmentStorage`` chooses), and what is derived from
it (thumbnails, motion-photo clips, metadata stripped on upload)."""
