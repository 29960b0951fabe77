"""Reading a user's CSV upload, with a clear message for every way it can be wrong.

Uploads are parsed as text only (pandas' CSV reader): nothing a user sends is
unpickled or executed.
"""
from __future__ import annotations

import io
import os
from typing import Sequence, Union

import pandas as pd

MAX_UPLOAD_BYTES = 5_000_000

Source = Union[str, os.PathLike, bytes]


class UploadError(ValueError):
    """An upload that cannot be used; the message says what was wrong and what is expected."""


def _read_bytes(source: Source) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        path = os.fspath(getattr(source, "name", source))
        if not os.path.isfile(path):
            raise UploadError(f"No file at {path!r}. Upload a CSV file.")
        if os.path.getsize(path) > MAX_UPLOAD_BYTES:
            raise UploadError(
                f"The file is {os.path.getsize(path) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB."
            )
        with open(path, "rb") as f:
            data = f.read()
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"The file is {len(data) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB.")
    return data


def read_csv_table(source: Source, columns: Sequence[str], max_rows: int, min_rows: int = 1) -> pd.DataFrame:
    """A CSV upload as a DataFrame with exactly ``columns`` (as strings, stripped,
    rows with an empty cell dropped).

    Raises ``UploadError`` for: bytes that are not UTF-8, an empty file, a file that
    is not CSV, a missing column, fewer than ``min_rows`` or more than ``max_rows`` rows.
    """
    expected = ", ".join(columns)
    data = _read_bytes(source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(
            f"The file is not UTF-8 text (byte {exc.start} cannot be decoded). Save it as a UTF-8 CSV."
        ) from None
    if not text.strip():
        raise UploadError(f"The file is empty. Expected a CSV with a header row: {expected}.")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UploadError(f"The file is not a readable CSV ({exc}). Expected columns: {expected}.") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UploadError(
            f"Missing column(s) {', '.join(missing)}. Expected a header row with: {expected} "
            f"(found: {', '.join(frame.columns) or 'none'})."
        )
    frame = frame[list(columns)].apply(lambda col: col.str.strip())
    frame = frame[(frame != "").all(axis=1)].reset_index(drop=True)
    if len(frame) > max_rows:
        raise UploadError(f"The file has {len(frame)} rows; the limit is {max_rows}. Use a smaller sample.")
    if len(frame) < min_rows:
        raise UploadError(f"The file has {len(frame)} usable rows; at least {min_rows} are needed.")
    return frame


def read_labelled_csv(source: Source, max_rows: int = 2000, min_per_label: int = 2) -> pd.DataFrame:
    """A ``text,label`` CSV: at least two labels, each with ``min_per_label`` texts."""
    frame = read_csv_table(source, ("text", "label"), max_rows=max_rows, min_rows=2)
    counts = frame["label"].value_counts()
    if len(counts) < 2:
        raise UploadError(
            f"The file has a single label ({counts.index[0]!r}); comparing intra- and inter-label "
            "similarity needs at least two labels."
        )
    small = counts[counts < min_per_label]
    if len(small):
        raise UploadError(
            f"Label(s) {', '.join(map(repr, small.index[:5]))} have fewer than {min_per_label} texts; "
            f"give each label at least {min_per_label}."
        )
    return frame
