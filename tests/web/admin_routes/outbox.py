"""Route-matrix rows of the administration area's outbox pages (see tests/web/admin_routes/__init__.py)."""

from __future__ import annotations


def routes(w) -> list[tuple]:
    from tests.web.admin_routes import ADMINS, READERS

    return [
        ("GET", "/admin/outbox", {}, READERS, {200}),
        ("GET", "/admin/outbox?status=dead&recipient=example", {}, READERS, {200}),
        ("GET", "/admin/outbox/message?id=1", {}, READERS, {200}),  # the demo's first notification
        ("POST", "/admin/outbox/requeue", {"data": {}}, ADMINS, {303}),  # none ticked: said, nothing sent
        ("POST", "/admin/outbox/cancel", {"data": {"id": "1", "reason": ""}}, ADMINS, {422}),  # no reason
    ]
