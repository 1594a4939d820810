"""Route-matrix rows of the administration area's recipients (see tests/web/admin_routes/__init__.py)."""

from __future__ import annotations

ADMINS = {"admin"}


def routes(w) -> list[tuple]:
    bad = {"data": {"key": "panel", "addresses": "not an address", "description": ""}}
    return [
        ("GET", "/admin/recipients", {}, ADMINS, {200}),
        ("GET", "/admin/recipients/new", {}, ADMINS, {200}),
        ("POST", "/admin/recipients/new", bad, ADMINS, {422}),  # refused: nothing changes
        ("GET", "/admin/recipients/change?key=panel", {}, ADMINS, {200}),
        ("POST", "/admin/recipients/change?key=panel", bad, ADMINS, {422}),
        ("POST", "/admin/recipients/test", {"data": {"key": "no_such_key"}}, ADMINS, {404}),
    ]
