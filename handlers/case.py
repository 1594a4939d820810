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


@handler("start_process")
def start_process(
    ctx: HandlerContext, *, process_id: str, carry: list | None = None, data: dict | None = None
) -> dict:
    """Hand the case over to another process: a new instance with the same case reference,
    carrying the named fields (or every field when ``carry`` is not given) plus ``data``."""
    keys = carry if carry is not None else list(ctx.data)
    handed = {k: ctx.data[k] for k in keys if k in ctx.data and not k.startswith("spiff__")}
    handed.update(data or {})
    if ctx.business_key:
        handed["case_reference"] = ctx.business_key
    ctx.start_process(process_id, handed)
    return {"process_id": process_id, "fields": sorted(handed)}
