"""The administration area's rows of the route matrix (tests/web/test_security.py), one module a section so
that each section lists its own pages: ``routes(w)`` gives (method, path, request options, roles allowed,
statuses that mean 'allowed'[, the status that refuses the others])."""

from __future__ import annotations

from tests.web.admin_routes import agencies, calendar, outbox, people, recipients

ADMINS = {"admin"}
READERS = {"manager", "admin"}  # managers may look at the calendar and the outbox


def routes(w) -> list[tuple]:
    rows = [("GET", "/admin/", {}, READERS, {200})]
    for section in (people, calendar, recipients, outbox, agencies):
        rows += section.routes(w)
    return rows
