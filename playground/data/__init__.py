"""The bottom layer: bundled corpora, generated images (`shapes`: captioned toy shapes, shared by
the image labs), the bundled photos and safe image loading (`images`), and the validated reading
of users' uploads. Imports nothing of the shell but the leaf modules."""
from playground.data.uploads import UploadError, read_csv_table, read_labelled_csv

__all__ = ["UploadError", "read_csv_table", "read_labelled_csv"]
