"""Route-matrix rows of the administration area's agencies pages (see tests/web/admin_routes/__init__.py)."""

from __future__ import annotations

ADMINS = {"admin"}


def routes(w) -> list[tuple]:
    bad = {"data": {"key": "Police", "name": "", "safeguarding_lead": "the duty desk"}}
    return [
        ("GET", "/admin/agencies", {}, ADMINS, {200}),
        ("GET", "/admin/agencies/new", {}, ADMINS, {200}),
        ("POST", "/admin/agencies/new", bad, ADMINS, {422}),  # refused: nothing changes
        ("GET", "/admin/agencies/change?key=police", {}, ADMINS, {200}),
        ("POST", "/admin/agencies/change?key=police", bad, ADMINS, {422}),
        ("POST", "/admin/agencies/status", {"data": {"key": "no_such_key", "active": "no"}}, ADMINS, {404}),
    ]
