"""Case-data handlers: computations a diagram asks for by name."""
from __future__ import annotations

from handlers.registry import HandlerContext, handler


@handler("merge_chronologies")
def merge_chronologies(ctx: HandlerContext, *, returns: list) -> dict:
    """One case chronology from every agency's returned rows, ordered by date, agency on each row."""
    rows = []
    for entry in returns:
        if not isinstance(entry, dict):
            continue
        agency = entry.get("agency", "")
        for row in entry.get("chronology", []) or []:
            if isinstance(row, dict):
                rows.append({**row, "agency": row.get("agency") or agency})
    rows.sort(key=lambda r: (str(r.get("date", "")), r.get("agency", "")))
    return {"chronology": rows, "agencies": sorted({r["agency"] for r in rows})}
