"""CSV exports that a spreadsheet opens as data, never as formulas.

A cell that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, or a tab or line break
first, even after leading spaces, non-breaking spaces or other invisible characters, which Excel and
LibreOffice skip) is written with a leading apostrophe, as OWASP advises for CSV injection. Every CSV
the service writes goes through :func:`csv_text` (or :func:`csv_chunks`, streamed).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# characters a spreadsheet may skip before it looks for "=": white space of every kind, zero-width
# characters and the byte order mark
_SKIPPED = "\u200b\u200c\u200d\u2060\ufeff"


def safe_cell(value):
    """The value as a spreadsheet should show it: text that could start a formula is quoted."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] in FORMULA_STARTS:
        return "'" + value
    first = next((c for c in value if not (c.isspace() or c in _SKIPPED)), "")
    return "'" + value if first in FORMULA_STARTS and first else value


def csv_text(rows: Iterable[dict], columns: list[str]) -> str:
    """A header line and one line per row, every text cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(column)) for column in columns])
    return out.getvalue()


def csv_chunks(rows: Iterable[dict], columns: list[str], rows_per_chunk: int = 500) -> Iterator[str]:
    """The same text as :func:`csv_text`, a chunk at a time as the rows arrive (streamed exports): memory
    stays that of one chunk however many rows there are."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for n, row in enumerate(rows, 1):
        writer.writerow([safe_cell(row.get(column)) for column in columns])
        if n % rows_per_chunk == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
