"""Route-matrix rows of the administration area's people pages (see tests/web/admin_routes/__init__.py)."""

from __future__ import annotations


def routes(w) -> list[tuple]:
    return []
