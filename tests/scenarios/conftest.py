"""What several scenarios share: the Business Unit's API client."""

from __future__ import annotations

import pytest

from web.app import create_app


@pytest.fixture
def api(deployed):
    """The API, as a Business Unit officer with a token: ``api(method, path, json=...)``."""
    client = create_app(deployed).test_client()
    deployed.users.add("bina", ["Business Unit"])
    token = deployed.users.create_token("bina")

    def call(method, path, **kwargs):
        return client.open(
            f"/api/v1{path}", method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )

    return call
