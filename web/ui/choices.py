"""The one place the partnership's directory becomes the choices a form offers (``"x-directory"``): each
agency's key and name, and a warning beside any agency whose request nobody would see."""

from __future__ import annotations

from flask import current_app, has_app_context

NOBODY = (
    "No one holds this agency's role yet: nobody would see its request. Ask an administrator to add a user."
)


def agencies() -> list[tuple[str, str, str]]:
    """``[(key, name, warning)]`` in the directory's order; the warning is empty when an active user
    holds the agency's role."""
    if has_app_context():
        listed = current_app.extensions["reviewflow"].agencies.listed()
    else:  # a form drawn outside the web app (a test of the renderer): the default file, nobody flagged
        from engine import agencies as directory
        from engine import config

        listed = [
            {"key": a.key, "name": a.name, "has_active_user": True}
            for a in directory.load(config.load().agencies).agencies
        ]
    return [(a["key"], a["name"], "" if a["has_active_user"] else NOBODY) for a in listed]


def of(keyword) -> list[tuple[str, str, str]]:
    """The choices an ``x-directory`` keyword names (only the agencies so far)."""
    name = keyword.get("directory") if isinstance(keyword, dict) else keyword
    return agencies() if name == "agencies" else []
