"""Agencies are chosen from the partnership's directory (processes/agencies.toml), never typed: the
agencies the referrer named are preselected where the rapid review asks which agencies to ask, an agency
nobody can act for is flagged before its request is made, and each request reaches the users who hold
that agency's role (003 §4.1: every relevant agency is asked for information)."""

from __future__ import annotations

import pytest

from engine.services.actor import Actor
from engine.services.errors import Invalid
from tests.scenarios.driver import STAFF, Partnership, form

SOCIAL_CARE = Actor("sw", frozenset({"Agency: Children's social care"}))


def test_a_request_to_a_directory_agency_reaches_the_users_holding_its_role(deployed):
    p = Partnership(deployed)
    named = ["police", "childrens_social_care"]
    notified = form("incident_notification", date_aware="2026-12-18", notification_date=None, agencies=named)
    deployed.instances.start("incident_notification", notified, STAFF)
    p.do("check_other_children", form("safety_check"))
    p.do("notify_panel_and_partners", form("statutory_notification"))
    [arrange] = p.tasks("arrange_rapid_review")

    # the agencies the referrer named are ticked, as the directory's keys
    assert deployed.tasks.starting_answers(arrange["id"], STAFF) == {
        "agencies": ["police", "childrens_social_care"]
    }
    # the case file beside the choice names the referrer's agencies as people read them, not by their keys
    named_rows = [r for s in deployed.tasks.get(arrange["id"], STAFF)["case_file"] for r in s["rows"]]
    assert ["Police", "Children's social care"] in [r.get("items") for r in named_rows]
    # before any request is made: nobody holds children's social care's role yet, a police officer does
    deployed.users.add("pc", ["Agency: Police"])
    flags = {a["key"]: a["has_active_user"] for a in deployed.agencies.listed()}
    assert flags["police"] is True and flags["childrens_social_care"] is False
    deployed.users.add("sw", ["Agency: Children's social care"])
    assert {a["key"]: a["has_active_user"] for a in deployed.agencies.listed()}["childrens_social_care"]

    # a typed agency is refused at its place, in plain English
    with pytest.raises(Invalid) as refused:
        deployed.instances.complete_task(
            arrange["id"], form("rapid_review_arrangements", agencies=["police", "Education"]), STAFF
        )
    [problem] = refused.value.details
    assert problem["path"] == "agencies/1" and "not one of the partnership's agencies" in problem["message"]

    p.do(
        "arrange_rapid_review",
        form("rapid_review_arrangements", agencies=["police", "childrens_social_care"]),
    )
    answered = deployed.tasks.get(arrange["id"], STAFF)["answers"]["rows"]
    assert {
        "key": "Agencies asked for information",
        "items": ["Police", "Children's social care"],
        "more": 0,
    } in (answered)
    [request] = deployed.tasks.for_user(SOCIAL_CARE)
    assert (request["element_id"], request["role"]) == (
        "return_agency_information",
        "Agency: Children's social care",
    )
    assert deployed.agencies.unseen([request["role"], "Agency: Education"]) == {"Agency: Education"}
    deployed.instances.complete_task(
        request["id"], form("agency_case_information", agency="Children's social care"), SOCIAL_CARE
    )
    assert [t["role"] for t in p.tasks("return_agency_information")] == ["Agency: Police"]
