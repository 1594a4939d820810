"""Route-matrix rows of the administration area's people pages (see tests/web/admin_routes/__init__.py),
and of the pages reached without signing in to set a password (a reset link, an invitation's link), which
everyone may open. A change to someone who does not exist (``<username>``) is 404 for an administrator, so
the matrix changes nobody's account."""

from __future__ import annotations

from tests.web.conftest import ROLES

ADMINS = {"admin"}
EVERYONE = {None, *ROLES}
NOBODY = "/admin/people/<username>"


def routes(w) -> list[tuple]:
    return [
        ("GET", "/admin/people", {}, ADMINS, {200}),
        (
            "GET",
            "/admin/people?q=po&role=Board&agency=Agency:+Police&disabled=no&mfa=off&never=yes",
            {},
            ADMINS,
            {200},
        ),
        ("GET", "/admin/people?page=2", {}, ADMINS, {200}),
        ("GET", "/admin/people/invite", {}, ADMINS, {200}),
        ("POST", "/admin/people/invite", {"data": {"name": "", "email": "x"}}, ADMINS, {422}),
        ("GET", "/admin/people/police", {}, ADMINS, {200}),
        ("GET", NOBODY, {}, ADMINS, {404}),
        ("POST", f"{NOBODY}/roles", {"data": {"roles": "Board"}}, ADMINS, {404}),
        ("POST", f"{NOBODY}/active", {"data": {"action": "disable"}}, ADMINS, {404}),
        ("POST", f"{NOBODY}/sign-out", {}, ADMINS, {404}),
        ("POST", f"{NOBODY}/reset-mfa", {}, ADMINS, {404}),
        ("POST", f"{NOBODY}/tokens", {"data": {"token_name": "Export"}}, ADMINS, {404}),
        ("POST", f"{NOBODY}/tokens/revoke", {"data": {"token": "1"}}, ADMINS, {404}),
        ("POST", f"{NOBODY}/invitation", {"data": {"action": "revoke"}}, ADMINS, {404}),
        ("GET", "/forgotten-password", {}, EVERYONE, {200}),
        ("POST", "/forgotten-password", {"data": {"email": ""}}, EVERYONE, {422}),
        ("GET", "/forgotten-password/sent", {}, EVERYONE, {200}),
        ("GET", "/password-reset/<token>", {}, EVERYONE, {404}),
        ("POST", "/password-reset/<token>", {"data": {"password": "x"}}, EVERYONE, {404}),
        ("GET", "/invitation/<token>", {}, EVERYONE, {404}),
        ("POST", "/invitation/<token>", {"data": {"password": "x"}}, EVERYONE, {404}),
    ]
