"""Bundled corpora and the validated reading of users' uploads."""
from .uploads import UploadError, read_csv_table, read_labelled_csv

__all__ = ["UploadError", "read_csv_table", "read_labelled_csv"]
