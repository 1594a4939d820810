"""Odd addresses and parameters get a clear page with the right status, never a server error."""

from __future__ import annotations

import pytest

from tests.web.conftest import sign_in_client

ODD = [
    "/cases?status=exploded&overdue=maybe&stage=%00",
    "/cases/0",
    "/cases/999999999999999999999999",
    "/cases/999999999999999999999999/diagram.json",
    "/cases/12/chronology.csv",
    "/dashboard?from=2027-13-45&to=x",
    "/dashboard?from=2028-01-01&to=2027-01-01",
    "/modeller/nope",
    "/modeller/nope/download",
    "/modeller/rapid_review/download?version=abc",
    "/modeller/rapid_review/download?version=99",
    "/modeller/decisions/nope",
    "/tasks/not-a-task",
    "/tasks/" + "x" * 5000,
    "/calendar/nope.ics",
    "/cases.csv?process=%27%3B--",
    "/?process=<script>&sort=evil",
]


@pytest.mark.parametrize("path", ODD)
def test_odd_requests_get_a_clear_answer(app, path):
    client = app.test_client()
    sign_in_client(client, "admin")
    response = client.get(path)
    assert response.status_code in (200, 302, 400, 403, 404), (path, response.status_code)
    if response.status_code >= 400:
        assert "govuk-heading-l" in response.get_data(as_text=True)
