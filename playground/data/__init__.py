"""Bundled corpora, generated images (`shapes`: captioned toy shapes, shared by the image labs), and the validated reading of users' uploads."""
from playground.data.uploads import UploadError, read_csv_table, read_labelled_csv

__all__ = ["UploadError", "read_csv_table", "read_labelled_csv"]
