"""Cases that must never be dropped or mis-routed (issue 9, points 1-4).

1. A death in custody or detention, or of a 16/17-year-old under a deprivation of liberty order: under
   Working Together 2015 an SCR "should always" be carried out (000 §2.3), so the case goes on to the SCR
   decision; under the later regimes the Business Unit decides, with a recorded reason. No case closes as
   "not notifiable" without a person's decision.
2. The rules a case runs under are the rule set in force on the day the local authority became aware
   (catalogue, reading notes; 003 §1.4, §1.7), not the referrer's choice; a manager may override with a
   recorded reason.
3. Working Together 2023: the death of a care leaver up to and including the age of 24 is notified to the
   Secretary of State and Ofsted (catalogue §7), with no rapid review unless the serious-incident criteria
   are met.
4. A process started directly never ends in an engine error because a criterion is absent: the start is
   refused with 422 naming the fields.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from engine import clock
from engine.rules import load_rulesets
from engine.services import demo
from engine.services.actor import Actor
from engine.services.errors import Forbidden, Invalid
from engine.store.models import OutboxMessage
from tests.conftest import ROOT
from tests.scenarios.driver import AWARE_2017, MANAGER, STAFF, Partnership, form, notification

REFERRER = Actor("rita", frozenset({"Referring agency"}))
CASE_MANAGER = Actor("mo", frozenset({"manager"}))
SOS_OFSTED = ["ofsted-notifications@example.org", "secretary-of-state@example.org"]

DIED = {
    "child_died": True,
    "seriously_harmed": False,
    "abuse_or_neglect": "not_suspected",
    "looked_after": False,
    "regulated_setting": False,
}


def history(service, instance_id: int) -> list[dict]:
    return service.queries.get_instance(instance_id, MANAGER)["history"]


# --- 1. deaths in custody or detention; no silent "not notifiable" ------------------------------------


@pytest.mark.parametrize("circumstance", ["custody_or_detention", "dols_16_17"])
def test_wt2015_a_death_in_custody_goes_on_to_the_scr_decision(deployed, circumstance):
    """000 §2.3: "even if one of the criteria is not met, an SCR should always be carried out when a child
    dies in custody ... or where a child aged 16 or 17 years was the subject of a deprivation of liberty
    order"; the LSCB decides (000 §4.1), so Ofsted and the LSCB are told as for a notifiable incident (000

    §3.1-3.2)."""
    clock.set_now("2017-03-06T09:00:00+00:00")
    p = Partnership(deployed)
    p.start(regime="WT2015", **AWARE_2017, **DIED, **{circumstance: True})
    notification_case = p.case("incident_notification")
    assert notification_case["status"] != "completed", notification_case["data"].get("reason")
    assert (notification_case["data"]["notify_ofsted"], notification_case["data"]["notify_partners"]) == (
        True,
        True,
    )
    assert "000 §2.3" in notification_case["data"]["reason"]
    p.do("check_other_children", form("safety_check"))
    p.do("notify_ofsted_lscb", form("statutory_notification", date_sent="2017-03-06"))
    p.do(
        "request_information",
        form("information_request", information_required_by="2017-03-17", subgroup_meeting_date="2017-03-21"),
    )
    agency_task = p.tasks("return_case_information")[0]  # an agency sees its request, not the assessment
    assert "reason" not in deployed.tasks.get(agency_task["id"], STAFF)["context"]
    p.each_agency("return_case_information", "agency_case_information")
    decision = p.case("scr_decision")
    assert decision["data"]["outcome"] == "should_commission"  # "should always" (000 §2.3)
    assert "000 §2.3" in decision["data"]["reason"]
    assert p.open_steps() == ["subgroup_meeting"] and p.errors() == []


def test_later_regimes_a_death_in_custody_goes_to_the_business_unit_who_decides_with_a_reason(deployed):
    """003 §3 has no custody rule of its own: the Business Unit decides, with a recorded reason, whether the
    death is treated as a serious incident (issue 9 point 1; 000 §2.3 for why it may be)."""
    p = Partnership(deployed)
    p.start(**DIED, custody_or_detention=True, date_aware="2026-12-18", notification_date=None)
    case = p.case("incident_notification")
    assert case["status"] != "completed" and p.sent() == []
    assert "custody" in case["data"]["reason"]
    task = p.task("confirm_not_notifiable")
    assert task["role"] == "Business Unit"
    # the person deciding reads the table's reason beside the form
    assert deployed.tasks.get(task["id"], STAFF)["context"]["reason"] == case["data"]["reason"]
    p.do(
        "confirm_not_notifiable",
        form(
            "notifiability_decision",
            notifiability="treat_as_notifiable",
            notifiability_reason="A death in a secure children's home: the partners "
            "want the Panel told and a rapid review held.",
        ),
    )
    p.do("check_other_children", form("safety_check"))
    assert p.open_steps() == ["arrange_rapid_review", "notify_panel_and_partners"]  # side by side (003 §3.4)
    p.do("notify_panel_and_partners", form("statutory_notification"))
    assert [r for r, _ in p.sent("panel_serious_incident")] == ["panel-notifications@example.org"]
    assert p.case("rapid_review")["status"] == "running"
    completed = [h for h in history(deployed, case["id"]) if h["element_id"] == "confirm_not_notifiable"]
    assert completed and completed[0]["actor"] == STAFF.username


def test_no_incident_closes_as_not_notifiable_without_a_persons_decision(deployed):
    """Catalogue, reading notes: "No incident closes as 'not notifiable' without a person's decision"; the
    referrer is told the outcome with the reasons (001 §3)."""
    p = Partnership(deployed)
    p.start(child_died=False, seriously_harmed=False, abuse_or_neglect="not_suspected")
    case = p.case("incident_notification")
    assert case["status"] != "completed" and p.sent() == []
    assert p.open_steps() == ["confirm_not_notifiable"]
    reason = "No harm to the child; the school's concern is being handled as early help."
    p.do(
        "confirm_not_notifiable",
        form("notifiability_decision", notifiability="not_notifiable", notifiability_reason=reason),
    )
    assert p.case("incident_notification")["status"] == "completed"
    assert p.sent() == [("referrer@example.org", "referrer_not_notifiable")]
    with deployed.db.reading() as session:
        [body] = session.scalars(select(OutboxMessage.body)).all()
    assert reason in body
    assert p.instances("rapid_review") == [] and p.instances("scr_decision") == []


# --- 2. the regime comes from the dates --------------------------------------------------------------


def test_every_national_rule_set_declares_the_days_it_is_in_force_with_its_source():
    sets = load_rulesets(ROOT / "processes" / "rulesets")
    spans = {name: (rs.in_force.start, rs.in_force.end) for name, rs in sets.items() if rs.in_force}
    assert spans == {
        "WT2015": (dt.date(2015, 3, 26), dt.date(2018, 6, 28)),
        "WT2018": (dt.date(2018, 6, 29), dt.date(2023, 12, 14)),
        "WT2023": (dt.date(2023, 12, 15), None),
    }
    assert all(sets[name].in_force.source.strip() for name in spans)
    assert "003 §1.4" in sets["WT2018"].in_force.source
    assert sets["BOLTON_PRE2015"].in_force is None  # a local set: chosen by a manager, never by date


@pytest.mark.parametrize(
    "aware,regime",
    [
        ("2017-03-03", "WT2015"),
        ("2018-06-28", "WT2015"),
        ("2018-06-29", "WT2018"),
        ("2023-12-14", "WT2018"),
        ("2023-12-15", "WT2023"),
        ("2026-12-18", "WT2023"),
    ],
)
def test_a_case_runs_under_the_rules_in_force_on_the_day_the_local_authority_became_aware(
    deployed, aware, regime
):
    started = deployed.instances.start(
        "incident_notification",
        notification(
            regime=None, date_aware=aware, incident_date=aware, referral_date=aware, notification_date=None
        ),
        REFERRER,
    )
    case = deployed.queries.get_instance(started["id"], MANAGER)
    assert (case["regime"], case["data"]["regime"]) == (regime, regime)


def test_the_referrer_cannot_choose_other_rules(deployed):
    with pytest.raises(Forbidden, match="manager"):
        deployed.instances.start(
            "incident_notification",
            notification(regime="WT2018", date_aware="2026-12-18", notification_date=None),
            REFERRER,
        )
    # naming the rules in force is no choice at all
    started = deployed.instances.start(
        "incident_notification",
        notification(regime="WT2023", date_aware="2026-12-18", notification_date=None),
        REFERRER,
    )
    assert deployed.queries.get_instance(started["id"], MANAGER)["regime"] == "WT2023"


def test_a_manager_may_run_a_transitional_case_under_other_rules_with_a_recorded_reason(deployed):
    with pytest.raises(Invalid) as refused:
        deployed.instances.start(
            "incident_notification",
            notification(regime="WT2015", date_aware="2026-12-18", notification_date=None),
            CASE_MANAGER,
        )
    assert [d["path"] for d in refused.value.details] == ["regime_reason"]
    reason = "The partnership's serious case review arrangements still apply to this area's cases."
    started = deployed.instances.start(
        "incident_notification",
        notification(regime="WT2015", regime_reason=reason, date_aware="2026-12-18", notification_date=None),
        CASE_MANAGER,
    )
    case = deployed.queries.get_instance(started["id"], MANAGER)
    assert case["regime"] == "WT2015"
    [override] = [h for h in case["history"] if h["kind"] == "regime_overridden"]
    assert override["actor"] == CASE_MANAGER.username
    assert override["detail"] == {
        "in_force": "WT2023",
        "date_aware": "2026-12-18",
        "regime": "WT2015",
        "ruleset": None,
        "reason": reason,
    }


def test_a_local_rule_set_is_chosen_by_a_manager_and_keeps_its_national_regime(deployed):
    reason = "Bolton's Framework for Action applies to this legacy referral (004)."
    started = deployed.instances.start(
        "incident_notification",
        notification(
            regime=None,
            ruleset="BOLTON_PRE2015",
            regime_reason=reason,
            date_aware="2026-12-18",
            notification_date=None,
        ),
        CASE_MANAGER,
    )
    case = deployed.queries.get_instance(started["id"], MANAGER)
    assert (case["regime"], case["data"]["ruleset"]) == ("WT2015", "BOLTON_PRE2015")


def test_the_demo_cases_of_2026_run_under_working_together_2023(deployed):
    demo.seed(deployed, password="correct horse battery")
    cases = [
        deployed.queries.get_instance(row["id"], MANAGER) for row in deployed.queries.list_instances(MANAGER)
    ]
    overridden = {
        c["business_key"]: h["detail"]
        for c in cases
        for h in c["history"]
        if h["kind"] == "regime_overridden"
    }
    # the demo's serious case review is a manager's recorded choice, and its hand-overs keep it
    assert [d["regime"] for d in overridden.values()] == ["WT2015"] and all(
        d["reason"] for d in overridden.values()
    )
    for case in cases:
        expected = "WT2015" if case["business_key"] in overridden else "WT2023"
        assert case["regime"] == expected, (case["process_id"], case["data"].get("date_aware"))


# --- 3. a care leaver's death under Working Together 2023 ------------------------------------------


def test_wt2023_a_care_leavers_death_is_notified_to_the_secretary_of_state_and_ofsted(deployed):
    """Working Together 2023 (catalogue §7): the local authority notifies the Secretary of State and Ofsted of
    the death of a care leaver up to and including the age of 24; no rapid review unless the serious-incident
    criteria are met (003 §3.1)."""
    p = Partnership(deployed)
    p.start(**DIED, care_leaver=True, date_aware="2026-12-21", notification_date=None)
    case = p.case("incident_notification")
    assert (case["regime"], case["data"]["notify_secretary_of_state"], case["data"]["notify_panel"]) == (
        "WT2023",
        True,
        False,
    )
    p.do("check_other_children", form("safety_check"))
    assert p.open_steps() == ["notify_sos_ofsted"]
    p.do("notify_sos_ofsted", form("statutory_notification"))
    assert sorted(r for r, _ in p.sent("care_leaver_death_notification")) == SOS_OFSTED
    assert p.sent("lac_death_notification") == [] and p.sent("panel_serious_incident") == []
    assert p.case("incident_notification")["status"] == "completed" and p.instances("rapid_review") == []


def test_wt2023_a_care_leavers_death_with_suspected_abuse_also_has_the_rapid_review(deployed):
    p = Partnership(deployed)
    p.start(
        **{**DIED, "abuse_or_neglect": "suspected"},
        care_leaver=True,
        date_aware="2026-12-21",
        notification_date=None,
    )
    p.do("check_other_children", form("safety_check"))
    assert p.open_steps() == ["arrange_rapid_review", "notify_panel_and_partners", "notify_sos_ofsted"]


@pytest.mark.parametrize(
    "regime,facts,expected",
    [
        ("WT2023", {"care_leaver": True}, ("notify_ofsted", "notify_secretary_of_state")),
        (
            "WT2023",
            {"care_leaver": True, "abuse_or_neglect": "known"},
            ("notify_panel", "notify_ofsted", "notify_secretary_of_state", "notify_partners"),
        ),
        ("WT2018", {"care_leaver": True}, ()),  # a duty of Working Together 2023 only
        ("WT2023", {"care_leaver": True, "child_died": False, "seriously_harmed": True}, ()),  # deaths only
        ("WT2015", {"custody_or_detention": True}, ("notify_ofsted", "notify_partners")),  # 000 §2.3
        ("WT2015", {"dols_16_17": True}, ("notify_ofsted", "notify_partners")),
        ("WT2023", {"custody_or_detention": True}, ()),  # the Business Unit decides
    ],
)
def test_the_notification_table_reads_custody_and_care_leaver_deaths(deployed, regime, facts, expected):
    inputs = {
        **DIED,
        "outside_england": False,
        "abuse_or_neglect": "not_suspected",
        "regime": regime,
        **facts,
    }
    out = deployed.decisions.evaluate("notifiable_incident", inputs, MANAGER)["outputs"]
    assert (
        tuple(
            k
            for k in ("notify_panel", "notify_ofsted", "notify_secretary_of_state", "notify_partners")
            if out[k]
        )
        == expected
    )
    assert "§" in out["reason"] or "Working Together 2023" in out["reason"]


def test_the_notification_table_still_answers_with_the_contracts_inputs_alone(deployed):
    """The contract's inputs of notifiable_incident stay enough: a criterion not given is unknown, not an
    error."""
    inputs = {**DIED, "outside_england": False, "regime": "WT2018"}
    out = deployed.decisions.evaluate("notifiable_incident", inputs, MANAGER)["outputs"]
    assert out["notify_panel"] is False and out["reason"]


# --- 4. a direct start never ends in an engine error ---------------------------------------------------


def test_an_scr_decision_started_without_the_criteria_is_refused_naming_them(api, deployed):
    """The SCR decision needs every criterion of 000 §2.2-2.3 (scr_criteria's inputs): a direct start that
    lacks one is refused, never left to fail at the decision table weeks later."""
    clock.set_now("2017-03-06T09:00:00+00:00")
    dictionary = {
        "regime": "WT2015",
        "date_aware": "2017-03-03",
        "incident_date": "2017-03-02",
        "notification_date": "2017-03-06",
        "child_died": True,
        "seriously_harmed": False,
        "abuse_or_neglect": "suspected",
        "looked_after": False,
        "regulated_setting": False,
        "outside_england": False,
        "joint_working_concern": "unknown",
    }
    r = api("POST", "/processes/scr_decision/instances", json={"data": dictionary})
    assert r.status_code == 422, r.get_json()
    paths = {d["path"] for d in r.get_json()["error"]["details"]}
    assert {"custody_or_detention", "dols_16_17"} <= paths
    assert deployed.queries.list_instances(MANAGER) == []


def test_an_scr_decision_started_with_the_notification_request_runs_to_the_sub_group(api, deployed):
    """000 §4.2: an agency that believes the criteria are met sends the notification request (Appendix 1) to
    the chair; the Business Unit may start the decision from it directly."""
    clock.set_now("2017-03-06T09:00:00+00:00")
    data = notification(**AWARE_2017, regime=None, child_died=True, abuse_or_neglect="suspected")
    r = api("POST", "/processes/scr_decision/instances", json={"data": data})
    assert r.status_code == 201, r.get_json()
    p = Partnership(deployed)
    assert p.case("scr_decision")["regime"] == "WT2015"
    p.do("request_information", form("information_request", information_required_by="2017-03-17"))
    p.each_agency("return_case_information", "agency_case_information")
    assert p.case("scr_decision")["data"]["outcome"] == "must_commission"
    assert p.open_steps() == ["subgroup_meeting"] and p.errors() == []
