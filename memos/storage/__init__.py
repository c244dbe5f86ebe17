"""Where attachment content lives outside its database row: files under the data directory
(``local``) today; database blobs and S3 objects join with the attachment service."""
