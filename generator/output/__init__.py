"""Files: documents, formats, the record and incremental runs."""
