"""Every API route tried anonymously and as each kind of user: each gets what it may, nothing else."""

from __future__ import annotations

import pytest

from tests.api_contract import contract
from tests.integration.test_demo_process import INCIDENT
from web.app import create_app

ROLES = {
    "staff": ["Business Unit"],
    "agency": ["Contributing agency"],
    "manager": ["manager"],
    "owner": ["process_owner"],
}


@pytest.fixture
def world(deployed):
    client = create_app(deployed).test_client()
    tokens = {}
    for name, roles in ROLES.items():
        deployed.users.add(name, roles)
        tokens[name] = deployed.users.create_token(name)
    from tests.conftest import BUSINESS_UNIT

    case = deployed.instances.start("engine_demo", {"regime": "WT2018"}, BUSINESS_UNIT)
    task = deployed.tasks.for_user(BUSINESS_UNIT)[0]
    return client, tokens, case, task


def status(world, who, method, path, **kwargs):
    client, tokens, _, _ = world
    headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
    response = client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
    contract().check(method, path, response)  # every answer as the OpenAPI document declares
    return response.status_code


@pytest.mark.parametrize("who", [None, "staff", "agency", "manager", "owner"])
def test_route_by_role(world, who):
    _, _, case, task = world
    expect = [  # (method, path, body), {who: status}
        (("GET", "/processes", None), {None: 401, "staff": 200, "agency": 200, "manager": 200, "owner": 200}),
        (("GET", "/tasks", None), {None: 401, "staff": 200, "agency": 200, "manager": 200, "owner": 200}),
        (
            ("GET", f"/tasks/{task['id']}", None),
            {None: 401, "staff": 200, "agency": 403, "manager": 200, "owner": 403},
        ),
        (
            ("GET", f"/instances/{case['id']}", None),
            {None: 401, "staff": 200, "agency": 403, "manager": 200, "owner": 403},
        ),
        (
            ("GET", f"/instances/{case['id']}/diagram", None),
            {None: 401, "staff": 200, "agency": 403, "manager": 200, "owner": 403},
        ),
        (
            ("GET", f"/instances/{case['id']}/chronology", None),
            {None: 401, "staff": 200, "agency": 403, "manager": 200, "owner": 403},
        ),
        (("GET", "/outbox", None), {None: 401, "staff": 403, "agency": 403, "manager": 200, "owner": 403}),
        (
            ("GET", "/deployments", None),
            {None: 401, "staff": 403, "agency": 403, "manager": 200, "owner": 200},
        ),
        (
            ("POST", f"/instances/{case['id']}/suspend", {"reason": "checking"}),
            {None: 401, "staff": 403, "agency": 403, "manager": 200, "owner": 403},
        ),
        (
            ("POST", f"/tasks/{task['id']}/claim", None),
            {None: 401, "staff": 200, "agency": 403, "manager": 403, "owner": 403},
        ),
        (
            ("POST", f"/tasks/{task['id']}/reassign", {"username": "staff"}),
            {None: 401, "staff": 403, "agency": 403, "manager": 200, "owner": 403},
        ),
        (
            ("PUT", "/calendar/overrides/2027-01-04", {"kind": "holiday", "note": "x"}),
            {None: 401, "staff": 403, "agency": 403, "manager": 403, "owner": 403},
        ),
    ]
    for (method, path, body), by_role in expect:
        got = (
            status(world, who, method, path, json=body)
            if body is not None
            else status(world, who, method, path)
        )
        assert got == by_role[who], (method, path, who, got)


def test_completing_needs_the_lane_role(world):
    _, _, _, task = world
    for who, expected in (("agency", 403), ("manager", 403), ("owner", 403), ("staff", 200)):
        assert (
            status(world, who, "POST", f"/tasks/{task['id']}/complete", json={"data": INCIDENT}) == expected
        )
