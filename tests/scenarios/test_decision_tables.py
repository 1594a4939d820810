"""The statutory decision tables, evaluated as deployed: every criterion and its boundaries."""

from __future__ import annotations

import pytest

from engine.services.errors import Invalid
from tests.conftest import MANAGER

BASE = {
    "child_died": False,
    "seriously_harmed": False,
    "abuse_or_neglect": "not_suspected",
    "looked_after": False,
    "regulated_setting": False,
    "outside_england": False,
}
NOTIFY = ("notify_panel", "notify_ofsted", "notify_secretary_of_state", "notify_partners")


def notify(service, regime, **facts):
    out = service.decisions.evaluate("notifiable_incident", {**BASE, "regime": regime, **facts}, MANAGER)[
        "outputs"
    ]
    assert out["reason"]
    return tuple(k for k in NOTIFY if out[k])


@pytest.mark.parametrize("regime", ["WT2018", "WT2023"])
@pytest.mark.parametrize(
    "facts,expected",
    [
        ({"child_died": True, "abuse_or_neglect": "known"}, ("notify_panel", "notify_partners")),
        ({"child_died": True, "abuse_or_neglect": "suspected"}, ("notify_panel", "notify_partners")),
        ({"seriously_harmed": True, "abuse_or_neglect": "suspected"}, ("notify_panel", "notify_partners")),
        (
            {"seriously_harmed": True, "abuse_or_neglect": "suspected", "outside_england": True},
            ("notify_panel", "notify_partners"),
        ),
        ({"child_died": True, "abuse_or_neglect": "not_suspected"}, ()),
        ({"seriously_harmed": True, "abuse_or_neglect": "not_suspected"}, ()),
        ({"abuse_or_neglect": "known"}, ()),  # neither died nor seriously harmed
        ({"child_died": True, "looked_after": True}, ("notify_ofsted", "notify_secretary_of_state")),  # §3.7
        ({"child_died": True, "looked_after": True, "abuse_or_neglect": "known"}, NOTIFY),
        ({"seriously_harmed": True, "looked_after": True}, ()),  # §3.7 is about deaths only
    ],
)
def test_serious_child_safeguarding_case(deployed, regime, facts, expected):
    assert notify(deployed, regime, **facts) == expected


@pytest.mark.parametrize(
    "facts,notifiable",
    [
        ({"child_died": True, "abuse_or_neglect": "suspected"}, True),
        ({"seriously_harmed": True, "abuse_or_neglect": "known"}, True),
        ({"child_died": True, "looked_after": True}, True),  # abuse not suspected
        ({"child_died": True, "regulated_setting": True}, True),  # abuse not suspected
        ({"seriously_harmed": True, "looked_after": True}, False),
        ({"child_died": True}, False),
        ({"seriously_harmed": True}, False),
    ],
)
def test_wt2015_notifiable_incident_goes_to_ofsted_and_the_lscb(deployed, facts, notifiable):
    assert notify(deployed, "WT2015", **facts) == (("notify_ofsted", "notify_partners") if notifiable else ())


SCR = {
    "child_died": False,
    "seriously_harmed": False,
    "abuse_or_neglect": "not_suspected",
    "joint_working_concern": "unknown",
    "custody_or_detention": False,
    "dols_16_17": False,
}


def scr(service, **facts):
    out = service.decisions.evaluate("scr_criteria", {**SCR, **facts}, MANAGER)["outputs"]
    assert "§" in out["reason"]
    return out["outcome"]


@pytest.mark.parametrize(
    "facts,outcome",
    [
        (
            {"child_died": True, "abuse_or_neglect": "suspected", "joint_working_concern": "definitely_none"},
            "must_commission",
        ),
        (
            {"seriously_harmed": True, "abuse_or_neglect": "known", "joint_working_concern": "yes"},
            "must_commission",
        ),
        (
            {"seriously_harmed": True, "abuse_or_neglect": "known", "joint_working_concern": "unknown"},
            "must_commission",
        ),
        (
            {
                "seriously_harmed": True,
                "abuse_or_neglect": "known",
                "joint_working_concern": "definitely_none",
            },
            "consider_other_review",
        ),
        (
            {"seriously_harmed": True, "abuse_or_neglect": "not_suspected", "joint_working_concern": "yes"},
            "consider_other_review",
        ),
        ({"child_died": True, "custody_or_detention": True}, "should_commission"),
        ({"child_died": True, "dols_16_17": True}, "should_commission"),
        ({"custody_or_detention": True}, "consider_other_review"),  # the custody rule is about deaths
        ({"child_died": True}, "consider_other_review"),
        ({}, "consider_other_review"),
    ],
)
def test_scr_criteria(deployed, facts, outcome):
    assert scr(deployed, **facts) == outcome


@pytest.mark.parametrize(
    "facts,outcome,method",
    [
        (
            {
                "child_died": True,
                "abuse_or_neglect": "known",
                "culpability_score": 4,
                "public_interest_score": 2,
            },
            "must_commission",
            "hybrid_investigative",
        ),
        (
            {
                "child_died": True,
                "abuse_or_neglect": "known",
                "culpability_score": 3,
                "public_interest_score": 3,
            },
            "must_commission",
            "systems_or_root_cause",
        ),
        (
            {
                "child_died": False,
                "abuse_or_neglect": "suspected",
                "serious_harm": "yes",
                "culpability_score": 1,
                "public_interest_score": 5,
            },
            "must_commission",
            "hybrid_investigative",
        ),
        (
            {
                "child_died": False,
                "abuse_or_neglect": "suspected",
                "serious_harm": "unsure",
                "culpability_score": 0,
                "public_interest_score": 0,
            },
            "consult_peer_chair",
            "undecided",
        ),
        (
            {
                "child_died": False,
                "abuse_or_neglect": "not_suspected",
                "serious_harm": "yes",
                "culpability_score": 5,
                "public_interest_score": 5,
            },
            "not_met",
            "undecided",
        ),
    ],
)
def test_independent_chair_checklist(deployed, facts, outcome, method):
    facts = {"serious_harm": "no", **facts}
    out = deployed.decisions.evaluate("independent_chair_checklist", facts, MANAGER)["outputs"]
    assert (out["checklist_outcome"], out["suggested_methodology"]) == (outcome, method)


def test_missing_inputs_are_named(deployed):
    with pytest.raises(Invalid) as exc:
        deployed.decisions.evaluate("independent_chair_checklist", {"child_died": True}, MANAGER)
    # serious harm is asked only when the child did not die, the scores only when the chair proceeds (001
    # Appendix 1)
    assert {d["path"] for d in exc.value.details} == {"abuse_or_neglect"}


@pytest.mark.parametrize(
    "case,facts,outcome",
    [
        # 1: a baby died after a premature birth; a suspicion that the mother was kicked
        (
            1,
            {"child_died": True, "abuse_or_neglect": "suspected", "joint_working_concern": "unknown"},
            "must_commission",
        ),
        # 2: a pupil seriously harmed by a school employee; no agency contact beyond universal services and
        # the
        #    employee unknown to agencies: definitive evidence of no concern about joint working, so the
        #    regulation's criteria are not met (the LSCB may still commission, 002 §1.3)
        (
            2,
            {
                "seriously_harmed": True,
                "abuse_or_neglect": "known",
                "joint_working_concern": "definitely_none",
            },
            "consider_other_review",
        ),
        # 3: a baby died co-sleeping with a grandmother who had been drinking; both carers charged with
        # neglect
        (
            3,
            {"child_died": True, "abuse_or_neglect": "known", "joint_working_concern": "unknown"},
            "must_commission",
        ),
        # 4: a young woman in care sexually abused over six years; lessons about how professionals worked
        # together
        (
            4,
            {"seriously_harmed": True, "abuse_or_neglect": "known", "joint_working_concern": "yes"},
            "must_commission",
        ),
    ],
)
def test_east_of_england_case_studies(deployed, case, facts, outcome):
    """001 Appendix 3, each case study's facts put through the criteria."""
    assert scr(deployed, **facts) == outcome
