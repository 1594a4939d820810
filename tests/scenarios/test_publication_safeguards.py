"""Publication safeguards (000 §8.2-8.4; 001 §7 "Publication"): nothing is published until court orders
and data protection have been checked, the report is in plain English and fit to publish without amendment
or redaction (or the redaction is done), and the actions taken, their impact and what more will be done are
written out to be published with it. A refused decision changes nothing."""

from __future__ import annotations

import pytest

from engine.services.errors import Invalid
from tests.scenarios.driver import STAFF, Partnership, form
from tests.scenarios.test_publication_gates import local_review_signed_off, scr_signed_off

SAFEGUARDS = (
    "court_orders_checked",
    "data_protection_checked",
    "welfare_not_harmed",
    "plain_english",
    "publishable_without_redaction",
    "actions_taken",
    "actions_impact",
    "further_actions",
)


def refused(p: Partnership, step: str, data: dict) -> list[str]:
    with pytest.raises(Invalid) as caught:
        p.do(step, data)
    assert caught.value.status == 422
    return sorted(d["path"] for d in caught.value.details)


def snapshot(p: Partnership, process_id: str) -> tuple:
    """What a refused decision must leave as it was: the case's data, its open steps, its history and the
    notifications queued."""
    case = p.case(process_id)
    return case["data"], p.open_steps(), len(case["history"]), len(p.sent())


def decision(**changes) -> dict:
    return form(
        "publication_decision", **{"publication_date": "2028-01-05", "decided_on": "2027-12-01", **changes}
    )


def test_a_local_review_is_not_published_until_its_safeguards_are_confirmed(deployed):
    p = local_review_signed_off(deployed)
    before = snapshot(p, "local_cspr")

    unconfirmed = decision(**dict.fromkeys(SAFEGUARDS))  # None removes each answer
    assert refused(p, "lcspr_publication_decision", unconfirmed) == sorted(SAFEGUARDS)
    not_checked = decision(court_orders_checked=False, data_protection_checked=False, plain_english=False)
    assert refused(p, "lcspr_publication_decision", not_checked) == [
        "court_orders_checked",
        "data_protection_checked",
        "plain_english",
    ]
    needs_redaction = decision(publishable_without_redaction=False)
    assert refused(p, "lcspr_publication_decision", needs_redaction) == [
        "redaction_details",
        "redaction_done",
    ]
    not_redacted = decision(
        publishable_without_redaction=False, redaction_done=False, redaction_details="Names removed."
    )
    assert refused(p, "lcspr_publication_decision", not_redacted) == ["redaction_done"]
    assert snapshot(p, "local_cspr") == before  # nothing changed: still the decision to take

    p.do(
        "lcspr_publication_decision",
        decision(
            publishable_without_redaction=False, redaction_done=True, redaction_details="A school's name."
        ),
    )
    assert "lcspr_publication_decision" not in p.open_steps()
    data = p.case("local_cspr")["data"]
    assert data["actions_taken"] == form("publication_decision")["actions_taken"]
    assert data["further_actions"] == form("publication_decision")["further_actions"]


def test_the_actions_their_impact_and_what_more_are_shown_to_whoever_publishes(deployed):
    """000 §8.4: published with the report, so the step that records the publication shows them."""
    p = scr_signed_off(deployed)
    p.do("scr_publication_decision", decision())
    p.at("2027-12-22T10:00:00+00:00")
    p.do("scr_send_before_publication", form("report_sent", date_sent="2027-12-22"))
    p.do("scr_family_publication", form("family_contact"))
    [task] = p.tasks("scr_publish")
    [shown, *_] = p.service.tasks.get(task["id"], STAFF)["case_file"]
    assert shown["step"] == "scr_publication_decision"
    texts = {r["key"]: r.get("text") for r in shown["rows"]}
    example = form("publication_decision")
    for key in ("actions_taken", "actions_impact", "further_actions"):
        assert example[key] in texts.values(), key


def test_not_publishing_asks_for_no_safeguards(deployed):
    """Nothing is published, so there is nothing to check; the justification goes to the Panel instead."""
    p = local_review_signed_off(deployed)
    p.do(
        "lcspr_publication_decision",
        decision(
            publication_decision="not_published",
            justification="Publication would identify the child.",
            publication_date=None,
            **dict.fromkeys(SAFEGUARDS),
        ),
    )
    assert "lcspr_publication_decision" not in p.open_steps()
