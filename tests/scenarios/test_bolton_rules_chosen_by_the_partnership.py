"""Bolton's own framework (004) reached from the Start page: a partnership that works to it names its rule
set in REVIEWFLOW_LOCAL_RULESETS, and a notification whose national rules in force are those it extends
(WT2015) runs under BOLTON_PRE2015 without anyone choosing it per case. Its Initial SCR Panel has each
organisation's chronology (with the name of the worker, 004 Appendix 1) and brief synopsis before it, and a
child's death is referred to the Child Death Overview Panel on 004 Appendix 1's form."""

from __future__ import annotations

import json

import pytest

from engine.services import Reviewflow
from tests.conftest import PROCESS_OWNER, ROOT, make_settings
from tests.scenarios.driver import AWARE_2017, KEYS, Partnership, form


@pytest.fixture
def bolton(database_url):
    service = Reviewflow(make_settings(database_url, REVIEWFLOW_LOCAL_RULESETS="BOLTON_PRE2015"))
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    yield service
    service.db.dispose()


def notified(service, **changes) -> Partnership:
    """A 2017 death notified from the Start page (no rules named), the other children checked and the
    WT2015 notices sent."""
    p = Partnership(service)
    p.at("2017-03-06T10:00:00+00:00")
    p.start(**{**AWARE_2017, "child_died": True, **changes})
    p.do("check_other_children", form("safety_check"))
    p.do("notify_ofsted_lscb", form("statutory_notification", date_sent="2017-03-06"))
    return p


def test_the_partnerships_local_rules_apply_to_a_case_started_from_the_start_page(bolton):
    p = notified(bolton)
    case = p.case("scr_decision")
    assert (case["regime"], case["data"]["ruleset"]) == ("WT2015", "BOLTON_PRE2015")
    assert p.case("incident_notification")["data"]["ruleset"] == "BOLTON_PRE2015"
    assert "cdop_referral" in p.open_steps() and "request_information" not in p.open_steps()


def test_the_death_is_referred_to_cdop_and_the_panel_reads_the_chronologies_and_synopses(bolton):
    p = notified(bolton)
    [cdop] = p.tasks("cdop_referral")
    sections = bolton.tasks.get(cdop["id"], p_staff())["case_file"]
    shown = {row["key"] for section in sections for row in section["rows"]}
    notification = json.loads((ROOT / "forms" / "incident_notification.json").read_text())["properties"]
    wanted = ("children", "family_composition", "presenting_issues", "background", "other_services")
    assert {
        notification[k]["title"] for k in wanted
    } <= shown  # 004 Appendix 1's items, from the notification
    p.do("cdop_referral", form("cdop_referral", cdop_referral_date="2017-03-06"))
    p.do("bolton_request_chronologies", form("information_request", agencies=KEYS))
    assert {t["role"] for t in p.tasks("bolton_agency_chronology")} == {"Agency: Police", "Agency: Health"}
    p.each_agency("bolton_agency_chronology", "initial_panel_return")
    [panel] = p.tasks("initial_scr_panel")
    assert panel["deadline_key"] == "S9"
    sections = bolton.tasks.get(panel["id"], p_staff())["case_file"]
    returns = [s for s in sections if s.get("step") == "bolton_agency_chronology"]
    assert len(returns) == 2  # every organisation's return, with its synopsis
    merged = next(s for s in sections if s.get("title") == "Merged chronology")
    assert merged
    chronology = p.case("scr_decision")["data"]["case_chronology"]["chronology"]
    assert [r["worker"] for r in chronology] == ["Officer Example", "Officer Example"]
    p.do("initial_scr_panel", form("subgroup_recommendation", subgroup_meeting_date="2017-03-06"))
    assert "chair_checklist" in p.open_steps()


def test_without_the_setting_a_2017_case_runs_under_working_together_2015(deployed):
    p = notified(deployed)
    case = p.case("scr_decision")
    assert case["regime"] == "WT2015" and "ruleset" not in case["data"]
    assert "request_information" in p.open_steps() and "cdop_referral" not in p.open_steps()


def test_a_local_set_that_extends_other_rules_does_not_apply(database_url):
    """BOLTON_PRE2015 extends WT2015 only: a 2026 case (WT2023) keeps the national rules."""
    service = Reviewflow(make_settings(database_url, REVIEWFLOW_LOCAL_RULESETS="BOLTON_PRE2015"))
    try:
        service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
        p = Partnership(service)
        p.at("2026-12-21T10:00:00+00:00")
        p.start(date_aware="2026-12-18", notification_date=None)
        case = p.case("incident_notification")
        assert case["regime"] == "WT2023" and "ruleset" not in case["data"]
    finally:
        service.db.dispose()


def p_staff():
    from tests.scenarios.driver import STAFF

    return STAFF
