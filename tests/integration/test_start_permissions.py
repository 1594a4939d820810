"""Who may start what (issue 8, finding 5): each process declares the roles that may start it directly
(``startRoles``, else its start lane), and the data it starts with must pass its start form; case references
are given by reviewflow and unique. The same rules hold on the API and the pages."""

from __future__ import annotations

import pytest

from engine.services.actor import Actor
from tests.scenarios.driver import form, notification
from web.app import create_app

ROLES = [
    "Referring agency",
    "Contributing agency",
    "Local authority",
    "Business Unit",
    "Practice Review Group",
    "Executive Group",
    "Independent Chair",
    "SCR sub group",
    "manager",
    "process_owner",
    "admin",
]

# The start matrix: who may start each deployed process directly (hand-overs and calls always may).
MAY_START = {
    "incident_notification": {"Referring agency", "Local authority", "Business Unit", "manager", "admin"},
    "rapid_review": {"Business Unit", "admin"},
    "scr_decision": {"Business Unit", "admin"},
    "local_cspr": {"Business Unit", "admin"},
    "serious_case_review": {"Business Unit", "admin"},
    # an agency that believes a review would be of benefit asks for one (000 §10.1; 003 §5.6)
    "multi_agency_review": {"Referring agency", "Local authority", "Business Unit", "manager", "admin"},
    "recommendation_monitoring": {"Business Unit", "admin"},
    "engine_demo": {"Business Unit", "admin"},
    "local_cspr_review": set(),  # called by local_cspr only
    "serious_case_review_conduct": set(),  # called by serious_case_review only
    "engine_demo_summary": set(),  # called by engine_demo only
}


def _data(process_id: str) -> dict:
    if process_id == "incident_notification":
        return notification()
    if process_id == "scr_decision":  # started from the notification request, in a Working Together 2015 year
        return notification(
            date_aware="2017-03-03",
            incident_date="2017-03-02",
            referral_date="2017-03-03",
            notification_date="2017-03-06",
        )
    if process_id == "multi_agency_review":
        return {"regime": "WT2015", **form("multi_agency_review_request")}
    return {"regime": "WT2015" if process_id in ("scr_decision", "serious_case_review") else "WT2018"}


@pytest.fixture
def api(deployed):
    client = create_app(deployed).test_client()
    tokens = {}
    for i, role in enumerate(ROLES):
        deployed.users.add(f"user{i}", [role])
        tokens[role] = deployed.users.create_token(f"user{i}")

    def call(role, method, path, **kwargs):
        return client.open(
            f"/api/v1{path}", method=method, headers={"Authorization": f"Bearer {tokens[role]}"}, **kwargs
        )

    return call


def test_every_process_declares_who_may_start_it(deployed):
    assert {p["process_id"] for p in deployed.queries.processes()} == set(MAY_START)


@pytest.mark.parametrize("role", ROLES)
def test_the_start_matrix_on_the_api(api, role):
    for process_id, starters in MAY_START.items():
        r = api(role, "POST", f"/processes/{process_id}/instances", json={"data": _data(process_id)})
        if role in starters:
            assert r.status_code == 201, (process_id, role, r.get_json())
        else:
            assert r.status_code == 403, (process_id, role, r.status_code)
            assert "started" in r.get_json()["error"]["message"]


def test_a_refused_start_leaves_nothing_behind(api, deployed):
    from tests.conftest import MANAGER

    assert (
        api(
            "Contributing agency",
            "POST",
            "/processes/rapid_review/instances",
            json={"data": {"regime": "WT2018"}},
        ).status_code
        == 403
    )
    assert deployed.queries.list_instances(MANAGER) == []


def test_start_data_must_pass_the_start_form(api, deployed):
    from tests.conftest import MANAGER

    bad = {
        **notification(),
        "referrer": {**notification()["referrer"], "email": "x@y.example\r\nBcc: all@evil"},
    }
    del bad["children"]
    r = api("Referring agency", "POST", "/processes/incident_notification/instances", json={"data": bad})
    assert r.status_code == 422, r.get_json()
    paths = {d["path"] for d in r.get_json()["error"]["details"]}
    assert {"children", "referrer/email"} <= paths
    assert deployed.queries.list_instances(MANAGER) == []


def test_case_references_are_given_by_reviewflow_and_unique(api, deployed):
    first = api(
        "Business Unit", "POST", "/processes/engine_demo/instances", json={"data": {"regime": "WT2018"}}
    )
    reused = api(
        "Business Unit",
        "POST",
        "/processes/engine_demo/instances",
        json={"data": {"regime": "WT2018", "case_reference": first.get_json()["business_key"]}},
    )
    assert reused.status_code == 422
    assert reused.get_json()["error"]["details"][0]["path"] == "case_reference"
    second = api(
        "Business Unit", "POST", "/processes/engine_demo/instances", json={"data": {"regime": "WT2018"}}
    )
    assert first.get_json()["business_key"] != second.get_json()["business_key"]


def test_the_database_refuses_a_second_case_with_the_same_reference(deployed):
    import sqlalchemy.exc
    from sqlalchemy import select

    from engine.store.models import Instance
    from tests.conftest import BUSINESS_UNIT

    deployed.instances.start("engine_demo", {"regime": "WT2018"}, BUSINESS_UNIT)
    with pytest.raises(sqlalchemy.exc.IntegrityError), deployed.db.transaction() as session:
        row = session.scalars(select(Instance)).first()
        copy = Instance(**{c.key: getattr(row, c.key) for c in Instance.__table__.columns if c.key != "id"})
        session.add(copy)


@pytest.mark.parametrize(
    "process_id, refused, accepted",
    [
        ("rapid_review", "WT2015", "WT2018"),
        ("local_cspr", "BOLTON_PRE2015", "WT2023"),
        ("scr_decision", "WT2018", "WT2015"),
        ("serious_case_review", "WT2023", "BOLTON_PRE2015"),
    ],
)
def test_a_direct_start_under_rules_the_process_does_not_run_is_refused(
    deployed, process_id, refused, accepted
):
    """A rapid review's clocks exist only under Working Together 2018 and 2023 (003 §3.4-4.6), a serious case
    review's under 2015 and Bolton's rules (000 §4-8; 004): a case started under other rules would reach a
    deadline its rules lack, so it is refused with 422 naming the rules (the process's `regimes`)."""
    from engine.services.errors import Invalid
    from tests.scenarios.driver import TRANSITIONAL

    def start(rules):
        data = {**_data(process_id), "regime": None, "ruleset": rules, "regime_reason": TRANSITIONAL}
        data = {k: v for k, v in data.items() if v is not None}
        return deployed.instances.start(
            process_id, data, Actor("bu-manager", frozenset({"Business Unit", "manager"}))
        )

    with pytest.raises(Invalid) as refused_start:
        start(refused)
    assert refused_start.value.details[0]["path"] == "regime" and refused in refused_start.value.message
    assert start(accepted)["status"] in ("running", "waiting")
