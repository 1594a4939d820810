"""Route-matrix rows of the administration area's calendar pages (see tests/web/admin_routes/__init__.py)."""

from __future__ import annotations


def routes(w) -> list[tuple]:
    from tests.web.admin_routes import ADMINS, READERS

    empty = {"data": {}}  # nothing chosen: the page again with its errors, nothing changed
    return [
        ("GET", "/admin/calendar", {}, READERS, {200}),
        ("POST", "/admin/calendar/preview", empty, ADMINS, {422}),
        ("POST", "/admin/calendar/confirm", empty, ADMINS, {422}),
    ]
