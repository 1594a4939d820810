"""The JSON Schema forms in forms/: their shape and conventions, the contract's data dictionary,
and for each form a realistic valid submission and targeted invalid ones, failing at the field
path the API reports (``children/0/date_of_birth``).

Every person, place and contact detail below is made up (example.org addresses, Ofcom's drama
telephone numbers)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests.unit.step_form_examples import STEP_EXAMPLES

FORMS = Path(__file__).resolve().parents[2] / "forms"
SCHEMA_FILES = sorted(p for p in FORMS.glob("*.json") if not p.name.endswith(".ui.json"))
UI_FILES = sorted(FORMS.glob("*.ui.json"))
WIDGETS = {"textarea", "radios", "checkboxes", "select"}


def load(name: str) -> dict:
    return json.loads((FORMS / name).read_text(encoding="utf-8"))


def ids(paths):
    return [p.name for p in paths]


def error_paths(schema: dict, data) -> set[str]:
    """The paths of every problem, as the engine reports them (engine/services/forms.py)."""
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    out = set()
    for error in validator.iter_errors(data):
        parts = [str(p) for p in error.absolute_path]
        if error.validator == "required":
            parts += re.findall(r"'([^']+)' is a required property", error.message)[:1]
        if error.validator == "additionalProperties":
            parts += re.findall(r"'([^']+)' was unexpected", error.message)[:1]
        out.add("/".join(parts) or "(root)")
    return out


def fields(schema: dict, path: str = ""):
    """Every field schema at every depth: (path, schema), through object properties and array items."""
    for name, sub in schema.get("properties", {}).items():
        here = f"{path}/{name}" if path else name
        yield here, sub
        yield from _inside(sub, here)


def _inside(schema: dict, path: str):
    if schema.get("type") == "object":
        yield from fields(schema, path)
    elif schema.get("type") == "array":
        items = schema.get("items", {})
        yield f"{path}/items", items
        yield from _inside(items, f"{path}/items")


def objects(schema: dict, path: str = "(root)"):
    """The form and every object schema inside it."""
    yield path, schema
    for where, sub in fields(schema):
        if sub.get("type") == "object":
            yield where, sub


# --- every form: shape and conventions ---------------------------------------------------------


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=ids(SCHEMA_FILES))
def test_form_is_a_valid_draft_2020_12_object_schema(path):
    schema = load(path.name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"forms/{path.name}"
    assert re.fullmatch(r"[a-z][a-z0-9_]*\.json", path.name)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    for key in ("title", "description", "x-source"):
        assert isinstance(schema.get(key), str) and schema[key].strip(), f"{path.name}: no {key}"
    assert isinstance(schema.get("required"), list) and schema["required"], (
        f"{path.name}: nothing is required"
    )


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=ids(SCHEMA_FILES))
def test_every_field_at_every_depth_has_a_title(path):
    schema = load(path.name)
    missing = [
        where
        for where, sub in fields(schema)
        if not where.endswith("/items") and not str(sub.get("title", "")).strip()
    ]
    assert not missing, f"{path.name}: fields without a title: {missing}"
    # array items that are objects are shown as a group ("Add another ..."): they need a title too
    missing = [
        where
        for where, sub in fields(schema)
        if where.endswith("/items") and sub.get("type") == "object" and not sub.get("title")
    ]
    assert not missing, f"{path.name}: array items without a title: {missing}"


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=ids(SCHEMA_FILES))
def test_strings_are_bounded_and_arrays_have_max_items(path):
    schema = load(path.name)
    unbounded = [
        where
        for where, sub in fields(schema)
        if sub.get("type") == "string"
        and not {"enum", "format", "const"} & set(sub)
        and not isinstance(sub.get("maxLength"), int)
    ]
    assert not unbounded, f"{path.name}: free text without maxLength: {unbounded}"
    no_max = [where for where, sub in fields(schema) if sub.get("type") == "array" and "maxItems" not in sub]
    assert not no_max, f"{path.name}: arrays without maxItems: {no_max}"
    for where, sub in fields(schema):
        if sub.get("format") == "date":
            assert sub.get("type") == "string", f"{path.name}: {where}"
        assert sub.get("type") in {"string", "boolean", "integer", "number", "object", "array"}, (
            f"{path.name}: {where} has no single type"
        )


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=ids(SCHEMA_FILES))
def test_enums_have_matching_human_titles(path):
    schema = load(path.name)
    for where, sub in fields(schema):
        if "enum" in sub:
            titles = sub.get("x-enum-titles")
            assert isinstance(titles, list) and len(titles) == len(sub["enum"]), f"{path.name}: {where}"
            assert all(isinstance(t, str) and t.strip() for t in titles), f"{path.name}: {where}"
            assert len(set(sub["enum"])) == len(sub["enum"]), f"{path.name}: {where} repeats a value"
        else:
            assert "x-enum-titles" not in sub, f"{path.name}: {where} has titles but no enum"


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=ids(SCHEMA_FILES))
def test_objects_are_closed_and_name_only_their_own_fields(path):
    schema = load(path.name)
    for where, obj in objects(schema):
        props = obj.get("properties", {})
        assert obj.get("additionalProperties") is False, f"{path.name}: {where} accepts unknown fields"
        unknown = set(obj.get("required", [])) - set(props)
        assert not unknown, f"{path.name}: {where} requires fields it does not have: {unknown}"
        for cond in obj.get("allOf", []):
            _check_condition(path.name, where, props, cond)


def _check_condition(form, where, props, cond):
    """if/then blocks may only speak of fields that exist, and may not smuggle in new ones."""
    for part in ("if", "then", "else"):
        block = cond.get(part, {})
        unknown = (set(block.get("required", [])) | set(block.get("properties", {}))) - set(props)
        assert not unknown, f"{form}: {where} {part} names fields that do not exist: {unknown}"
        for name, sub in block.get("properties", {}).items():
            inner = props[name].get("properties", {})
            unknown = (set(sub.get("required", [])) | set(sub.get("properties", {}))) - set(inner)
            assert not unknown, f"{form}: {where}/{name} {part} names fields that do not exist: {unknown}"
            assert ("title" not in sub and "type" not in sub) or sub.get("type") == props[name].get("type")


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=ids(SCHEMA_FILES))
def test_forms_hold_no_contact_details(path):
    """The source documents name real people: forms carry no e-mail addresses or telephone numbers."""
    schema = load(path.name)
    del schema["$schema"]
    text = json.dumps(schema, ensure_ascii=False)
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.-]+", text)
    assert not re.search(r"\(?0\d{3,4}\)?[ -]?\d{3}[ -]?\d{3,4}", text)
    assert not re.search(r"https?://", text)


def test_top_level_field_names_can_be_workflow_variables():
    """Submitted top-level fields become workflow variables (engine/services/forms.check_keys)."""
    reserved = {
        "deadline",
        "reminder",
        "due_date",
        "add_working_days",
        "working_days_between",
        "add_months",
        "today",
        "now",
    }
    for path in SCHEMA_FILES:
        for name in load(path.name)["properties"]:
            assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", name), f"{path.name}: {name}"
            assert name not in reserved, f"{path.name}: {name} is an engine function"


# --- UI schemas --------------------------------------------------------------------------------


def _check_ui(form: str, ui: dict, schema: dict, where: str):
    props = schema.get("properties", {})
    for key, value in ui.items():
        if key == "ui:order":
            assert isinstance(value, list) and len(set(value)) == len(value), f"{form}: {where} ui:order"
            unknown = set(value) - set(props)
            assert not unknown, f"{form}: {where} ui:order names fields that do not exist: {unknown}"
            continue
        if key == "ui:widget":
            assert value in WIDGETS, f"{form}: {where} unknown widget {value!r}"
            kind = "enum-array" if schema.get("type") == "array" else schema.get("type")
            allowed = {
                "textarea": {"string"},
                "radios": {"string", "boolean"},
                "select": {"string"},
                "checkboxes": {"enum-array"},
            }[value]
            assert kind in allowed, f"{form}: {where} cannot be a {value}"
            if value in {"select", "checkboxes"}:
                assert "enum" in (schema["items"] if kind == "enum-array" else schema), f"{form}: {where}"
            continue
        assert not key.startswith("ui:"), f"{form}: {where} unknown UI option {key}"
        if key == "items" and schema.get("type") == "array":
            _check_ui(form, value, schema["items"], f"{where}/items")
            continue
        assert key in props, f"{form}: UI schema names '{where}/{key}', which is not a field"
        _check_ui(form, value, props[key], f"{where}/{key}")


@pytest.mark.parametrize("path", UI_FILES, ids=ids(UI_FILES))
def test_ui_schema_names_only_fields_that_exist(path):
    ui = load(path.name)
    base = path.name.removesuffix(".ui.json")
    assert (FORMS / f"{base}.json").exists(), f"{path.name} belongs to no form"
    schema = load(f"{base}.json")
    _check_ui(path.name, ui, schema, "(root)")
    if "ui:order" in ui:
        assert set(ui["ui:order"]) == set(schema["properties"]), f"{path.name}: ui:order leaves fields out"


# --- the contract's data dictionary ----------------------------------------------------------

DATE = {"type": "string", "format": "date"}
BOOL = {"type": "boolean"}
CONTRACT = {
    "regime": {"type": "string", "enum": ["WT2015", "WT2018", "WT2023"]},
    "date_aware": DATE,
    "incident_date": DATE,
    "notification_date": DATE,
    "child_died": BOOL,
    "seriously_harmed": BOOL,
    "abuse_or_neglect": {"type": "string", "enum": ["known", "suspected", "not_suspected"]},
    "looked_after": BOOL,
    "regulated_setting": BOOL,
    "outside_england": BOOL,
    "custody_or_detention": BOOL,
    "dols_16_17": BOOL,
    "joint_working_concern": {"type": "string", "enum": ["yes", "unknown", "definitely_none"]},
    "decision_date": DATE,
    "publication_date": DATE,
}
# deadline anchors the rule sets read (processes/rulesets/*.toml) are dates wherever they appear
ANCHORS = {"referral_date": DATE, "report_agreed_date": DATE, "information_required_by": DATE}


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=ids(SCHEMA_FILES))
def test_contract_fields_keep_their_contract_types_wherever_they_appear(path):
    schema = load(path.name)
    for where, sub in fields(schema):
        name = where.rsplit("/", 1)[-1]
        expected = {**CONTRACT, **ANCHORS}.get(name)
        if expected is None:
            continue
        assert sub.get("type") == expected["type"], f"{path.name}: {where}"
        assert sub.get("enum") == expected.get("enum"), f"{path.name}: {where}"
        assert sub.get("format") == expected.get("format"), f"{path.name}: {where}"


def test_the_notification_asks_every_incident_question_of_the_contract():
    schema = load("incident_notification.json")
    # the regime is set from date_aware (catalogue, reading notes), never asked of the referrer
    needed = set(CONTRACT) - {"decision_date", "publication_date", "regime"}
    assert needed <= set(schema["properties"]) and "regime" not in schema["properties"]
    assert needed - {"notification_date"} <= set(schema["required"])  # it defaults to the day it is recorded
    for form, field in (
        ("chair_decision.json", "decision_date"),
        ("executive_ratification.json", "decision_date"),
        ("publication_decision.json", "publication_date"),
    ):
        assert field in load(form)["properties"], f"{form} does not record {field}"


# --- realistic examples -----------------------------------------------------------------------

CHILD = {
    "name": "Child A Example",
    "also_known_as": "AJ",
    "date_of_birth": "2019-03-14",
    "address": "1 Sample Row, Exampletown, EX1 1AA",
    "gender": "female",
    "ethnicity": "White British",
    "language": "English",
    "school": "Exampletown Primary School",
    "gp": "Riverside Surgery",
}

EXAMPLES: dict[str, dict] = {
    "demo_incident.json": {
        "date_aware": "2026-12-14",
        "child_died": False,
        "seriously_harmed": True,
        "abuse_or_neglect": "suspected",
        "summary": "Admitted to hospital with a head injury.",
    },
    "demo_agency_return.json": {
        "agency": "Police",
        "chronology": [{"date": "2026-11-02", "event": "Call-out."}],
    },
    "incident_notification.json": {
        "children": [CHILD, {"name": "Child B Example", "date_of_birth": "2021-07-01", "gender": "male"}],
        "incident_date": "2026-12-10",
        "incident_date_estimated": False,
        "date_aware": "2026-12-11",
        "notification_date": "2026-12-14",
        "referral_date": "2026-12-11",
        "child_died": False,
        "seriously_harmed": True,
        "abuse_or_neglect": "suspected",
        "looked_after": False,
        "care_leaver": False,
        "regulated_setting": False,
        "outside_england": False,
        "custody_or_detention": False,
        "dols_16_17": False,
        "joint_working_concern": "unknown",
        "consideration_factors": ["child_protection_plan", "concerns_not_taken_seriously"],
        "other_children_safety": "Child B is staying with a grandparent under a safety plan.",
        "family_composition": [
            {"name": "Parent One Example", "date_of_birth": "1994-05-02", "relationship": "Mother"},
            {
                "name": "Child B Example",
                "date_of_birth": "2021-07-01",
                "relationship": "Brother",
                "school_or_nursery": "Little Acorns Nursery",
            },
        ],
        "presenting_issues": "Child A was taken to the emergency department with a fractured arm "
        "and bruising. The explanation given did not match the injuries.",
        "background": {
            "child": "Child A was on a child protection plan for neglect until June 2026.",
            "parents_carers": "Mother has been supported by adult mental health services.",
            "environment": "Temporary accommodation since September 2026.",
        },
        "other_services": [
            {"service": "Health visiting", "from_date": "2019-03-20"},
            {"service": "Early help", "from_date": "2025-01-06", "to_date": "2026-06-30"},
        ],
        "agencies": ["childrens_social_care", "police", "education", "health"],
        "reasons_for_review": "Suspected physical abuse causing serious harm to a child recently on a child "
        "protection plan; the school's concerns were not acted on.",
        "senior_officer": {
            "name": "Director Example",
            "role": "Director of Children's Services",
            "email": "director@example.org",
        },
        "referrer": {
            "name": "Referrer Example",
            "role": "Designated safeguarding lead",
            "agency": "Example NHS Trust",
            "email": "referrer@example.org",
            "phone": "01632 960001",
        },
        "additional_comments": "Police investigation under way.",
    },
    "agency_case_information.json": {
        "agency": "Exampletown Primary School",
        "completed_by": {
            "name": "Teacher Example",
            "role": "Designated safeguarding lead",
            "email": "dsl@example.org",
            "phone": "01632 960002",
        },
        "date_completed": "2026-12-16",
        "information_required_by": "2026-12-18",
        "timeframe": {"from_date": "2025-09-01", "to_date": "2026-12-10"},
        "child_details": [CHILD],
        "parents": {
            "mother": {
                "name": "Parent One Example",
                "date_of_birth": "1994-05-02",
                "telephone": "07700 900001",
                "ethnicity": "White British",
            },
            "father": {"name": "Not known"},
        },
        "agency_involved": True,
        "chronology": [
            {
                "date": "2026-10-03",
                "event": "Child A arrived with a bruise on her cheek; referral to social care.",
                "worker": "Class teacher",
            },
            {"date": "2026-11-20", "event": "Attendance below 80%; letter to parent."},
        ],
        "case_record_overview": "Regular attendance until autumn 2026; two safeguarding concerns logged.",
        "records_reviewed": "Safeguarding log and attendance records, September 2025 to December 2026.",
    },
    "rapid_review_record.json": {
        "rapid_review_date": "2026-12-21",
        "children": [CHILD],
        "family_composition": [{"name": "Parent One Example", "relationship": "Mother"}],
        "immediate_safeguarding": "Both children are with a grandparent under a safety plan; "
        "strategy meeting held.",
        "facts_summary": "Child A, 7, suffered a fractured arm; the explanation did not fit the injury.",
        "lcspr_criteria_met": True,
        "lcspr_criteria": ["joint_working", "recurrent_themes"],
        "lcspr_circumstances": ["single_agency_concern"],
        "lcspr_decision": "lcspr",
        "lcspr_decision_reasons": "Concerns raised by the school were not shared with health visiting.",
        "national_review_recommended": False,
        "national_review_reasons": "The issues are local and are not of national importance.",
        "immediate_learning": "Step-down from child protection plans needs a multi-agency review point.",
        "dissemination_plan": "Seven-minute briefing to all agencies in January.",
        "further_learning_potential": "How schools escalate concerns after a plan ends.",
        "rapid_review_agencies": ["childrens_social_care", "police", "health", "education"],
        "absent_agencies": [{"agency": "probation", "reason": "No involvement with the family."}],
    },
    "executive_ratification.json": {
        "ratification_date": "2026-12-21",
        "executive_agrees": True,
        "executive_lcspr_decision": "lcspr",
        "executive_national_review_recommended": False,
        "decision_date": "2026-12-23",
        "signatories": [
            {"partner": "local_authority", "name": "Partner One Example", "role": "Chief Executive"},
            {"partner": "health", "name": "Partner Two Example", "role": "Chief Nurse"},
            {"partner": "police", "name": "Partner Three Example", "role": "Chief Superintendent"},
        ],
    },
    "subgroup_recommendation.json": {
        "subgroup_meeting_date": "2026-12-21",
        "scr_criteria_met": True,
        "member_views": [
            {
                "agency": "Police",
                "role": "Detective Inspector",
                "recommends": "scr",
                "rationale": "Serious harm with suspected abuse and concerns about information sharing.",
            },
            {"agency": "Health", "recommends": "scr", "rationale": "Agrees: the criteria are met."},
        ],
        "recommendation": "scr",
        "recommendation_rationale": "Regulation 5(2)(a) and (b)(ii) are met: suspected abuse, "
        "serious harm and concern about how agencies worked together.",
        "proportionality": "A systems review with a practitioner event.",
        "terms_of_reference_issues": "Step-down from child protection plans.",
        "significant_disagreement": False,
    },
    "chair_decision.json": {
        "chair_decision": "accept",
        "review_decision": "scr",
        "chair_rationale": "The sub group's analysis is sound and the criteria are met.",
        "decision_date": "2027-01-08",
        "peer_challenge": {
            "sought": True,
            "date": "2027-01-07",
            "peer_chair": "Peer Chair Example, Sampleshire",
            "outcome": "Agreed that the criteria are met.",
        },
    },
    "multi_agency_review_request.json": {
        "referrer": {
            "name": "Referrer Example",
            "role": "Safeguarding lead",
            "agency": "Example Housing Trust",
            "email": "referrer@example.org",
        },
        "children": [CHILD],
        "agencies": ["housing", "childrens_social_care"],
        "circumstances": "Repeated moves between temporary accommodation in two areas.",
        "request_reason": "No serious harm, but a review would show how housing and children's "
        "services share information when families move.",
        "issues_of_importance": ["poor_practice", "near_miss"],
    },
    "reviewer_appointment.json": {
        "appointment_date": "2027-01-20",
        "reviewers": [
            {
                "name": "Reviewer Example",
                "role": "lead_reviewer",
                "organisation": "Example Reviews Ltd",
                "email": "reviewer@example.org",
                "independent_of_case": True,
                "independent_of_agencies": True,
            }
        ],
        "professional_knowledge": {"answer": True, "evidence": "Led six local reviews since 2020."},
        "research_knowledge": {"answer": True, "evidence": "Published work on neglect."},
        "complex_circumstances": {"answer": True, "evidence": "Systems-trained."},
        "without_hindsight": {
            "answer": True,
            "evidence": "Systems-trained; references from two partnerships.",
        },
        "communicates_findings": {"answer": True, "evidence": "Reports judged clear by the national panel."},
        "conflict_of_interest": {"answer": False, "evidence": "Declaration signed; no work in the area."},
        "method_agreed": "Systems review with a practitioner event.",
        "contract": {"days": 25, "expected_completion_date": "2027-06-30"},
    },
    "terms_of_reference.json": {
        "purpose": "To learn how agencies recognised and acted on risk to Child A "
        "after the child protection plan ended.",
        "focus": "case",
        "key_questions": [
            "Why were the school's concerns not escalated?",
            "How was the decision to end the plan reached?",
        ],
        "methodology": "systems",
        "methodology_rationale": "Learning about the system rather than individual practice; limited by the "
        "criminal investigation.",
        "period_from": "2025-09-01",
        "period_to": "2026-12-10",
        "review_start_date": "2027-01-25",
        "target_completion_date": "2027-06-30",
        "agency_reports_due": "2027-03-01",
        "contributors": [
            {"agency": "childrens_social_care", "contribution": "agency_report"},
            {"agency": "education", "contribution": "none"},
        ],
        "family_involvement": "The lead reviewer will write to the mother once the police agree.",
        "parallel_processes_identified": True,
        "parallel_processes": [
            {
                "process": "criminal_investigation",
                "details": "Police investigation; no charge yet.",
                "coordination": "Lead reviewer and senior investigating officer meet monthly.",
            }
        ],
        "police_cps_discussion": {
            "needed": True,
            "date": "2027-01-15",
            "outcome": "Interviews with practitioners may go ahead.",
        },
        "budget": "25 reviewer days",
        "governance": "Review panel chaired by the lead reviewer, reporting to the Executive Group.",
        "milestones": [{"milestone": "Practitioner event", "date": "2027-03-15"}],
        "agreed_by": "Partnership chair",
        "agreed_date": "2027-01-22",
    },
    "agency_report.json": {
        "agency": "Children's social care",
        "no_record_of_note": False,
        "author": {
            "name": "Author Example",
            "role": "Service manager, quality assurance",
            "independent_of_case": True,
        },
        "records_reviewed": "Case records, supervision notes and conference minutes, 2025-2026.",
        "staff_interviewed": [{"role": "Social worker", "date": "2027-02-02"}],
        "chronology": [
            {
                "date": "2026-03-01",
                "event": "Home visit.",
                "worker": "Social worker",
                "child_seen": True,
                "wishes_sought": True,
                "wishes_detail": "Child A said she liked her new school.",
            },
            {
                "date": "2026-06-30",
                "event": "Plan ended at review conference.",
                "child_seen": False,
                "wishes_sought": False,
            },
        ],
        "decisions_summary": "Child protection plan from 2025 to June 2026; stepped down to early help.",
        "analysis": "The step-down decision relied on improved attendance without hearing from the school.",
        "diversity": "No cultural or language needs were identified; this was not explored.",
        "learning_points": [
            {"category": "practice_improvement", "point": "Seek every agency's view before ending a plan."}
        ],
        "recommendations": [
            {
                "action": "Add a multi-agency check to step-down.",
                "by_whom": "Head of service",
                "by_when": "2027-06-30",
                "expected_outcome": "No plan ends without every agency's view.",
                "achieved": "not_yet_reviewed",
            }
        ],
        "sign_off": {
            "name": "Senior Manager Example",
            "role": "Assistant director",
            "date": "2027-03-01",
            "quality_confirmed": True,
        },
    },
    "practitioner_interview.json": {
        "interview_date": "2027-02-02",
        "review_brief_given": True,
        "voluntary_agreement": True,
        "arrangements_confirmed_in_writing": True,
        "documents_given": ["review_brief", "staff_leaflet"],
        "interviewee": {
            "full_name": "Practitioner Example",
            "qualifications": "Social work degree",
            "designation": "Social worker",
            "time_in_post": "3 years",
            "employing_body": "Exampletown Council",
            "previous_employment": [
                {
                    "employer": "Sampleshire Council",
                    "from_date": "2019-01-07",
                    "to_date": "2023-12-22",
                    "post_held": "Family support worker",
                }
            ],
            "role_in_case": "Allocated social worker from March 2026.",
        },
        "supporter": {"present": True, "name": "Colleague Example", "capacity": "colleague"},
        "staff_care_offered": True,
        "matters_covered": [
            {"matter": "child_wishes", "notes": "Saw Child A alone on four visits."},
            {"matter": "supervision", "notes": "Monthly supervision; step-down discussed once."},
        ],
        "summary": "The interviewee described a heavy caseload and pressure to step cases down.",
        "summary_given_date": "2027-02-09",
        "summary_agreement": "partly_agreed",
        "disagreements": "Disagrees that the school's concern was received before the conference.",
        "another_interview": False,
    },
    "action_plan_item.json": {
        "item_number": "2",
        "recommendation_kind": "local_clear_cut",
        "finding": "Plans were ended without hearing from every agency involved.",
        "objective": "Every agency's view is sought before a child protection plan ends.",
        "actions": ["Change the conference procedure.", "Audit 20 step-down decisions."],
        "target_date": "2027-09-30",
        "lead": {"agency": "Children's social care", "role": "Head of safeguarding"},
        "outcome": "Audits show every plan ended since October 2027 recorded each agency's view.",
        "status": "in_progress",
        "progress": [
            {
                "date": "2027-07-15",
                "update": "Procedure changed.",
                "evidence": "Procedure published 1 July 2027.",
            }
        ],
    },
    "publication_decision.json": {
        "publication_decision": "publish_full",
        "decided_on": "2027-05-20",
        "publication_date": "2027-06-15",
        "reviewer_named": True,
        "court_orders_checked": True,
        "data_protection_checked": True,
        "welfare_not_harmed": True,
        "plain_english": True,
        "publishable_without_redaction": True,
        "actions_taken": "The conference procedure now asks every agency's view before a plan ends.",
        "actions_impact": "An audit of 20 step-down decisions found every agency's view recorded.",
        "further_actions": "A second audit in six months; training for conference chairs.",
        "impact_management": "The family will see the report a week before publication.",
        "family_informed_date": "2027-05-25",
        "delayed_by_other_proceedings": False,
    },
    "independent_chair_checklist.json": {
        "child_died": False,
        "abuse_or_neglect": "suspected",
        "risk_factors": "Recent end of a child protection plan; temporary accommodation.",
        "serious_harm": "unsure",
        "joint_working_concern": "yes",
        "peer_consultation": {
            "date": "2027-01-07",
            "peer_chair": "Peer Chair Example",
            "decision": "scr",
            "rationale": "Likely long-term impact on the child's development.",
        },
        "proceed_with_scr": True,
        "culpability_score": 3,
        "public_interest_score": 2,
        "methodology": "systems",
        "governance": {"review_panel": True, "panel_chair": "Lead reviewer"},
        "target_completion_date": "2027-06-30",
        "media": {"lead": "Local authority communications", "joint_statement": True, "press_briefing": False},
        "chair_signature": "Independent Chair Example",
        "signed_date": "2027-01-08",
    },
    "agency_chronology.json": {
        "agency": "Police",
        "child_name": "Child A Example",
        "records_reviewed": "Command and control logs and custody records, 2025-2026.",
        "no_record_of_note": False,
        "chronology": [
            {
                "date": "2026-12-10",
                "event": "Attended the hospital; investigation opened.",
                "worker": "Detective constable",
            }
        ],
    },
    "overview_report.json": {
        "circumstances": "Child A suffered a serious injury six months after "
        "her child protection plan ended.",
        "contributors": [
            {"contributor": "Children's social care", "contribution": "Agency report and interviews"}
        ],
        "panel_members": [{"name": "Panel Member Example", "role": "Designated nurse"}],
        "author": "Reviewer Example",
        "analysis": "Decisions to end the plan rested on partial information.",
        "findings": "Step-down practice does not draw on every agency.",
        "lessons": "Multi-agency checks are needed before a plan ends.",
        "recommendations": ["Make every agency's view a condition of ending a plan."],
        "report_agreed_date": "2027-05-10",
        "board_sign_off": {"by": "Executive Group", "date": "2027-05-10"},
    },
}

EXAMPLES.update(STEP_EXAMPLES)


def test_every_form_has_a_realistic_example():
    assert {p.name for p in SCHEMA_FILES} == set(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_realistic_example_is_valid(name):
    assert error_paths(load(name), EXAMPLES[name]) == set()


def _set(data, path, value):
    *head, last = path.split("/")
    for part in head:
        data = data[int(part)] if isinstance(data, list) else data[part]
    if isinstance(data, list):
        data[int(last)] = value
    else:
        data[last] = value


def _del(data, path):
    *head, last = path.split("/")
    for part in head:
        data = data[int(part)] if isinstance(data, list) else data[part]
    del data[last]


DROP = object()


def variant(name, **changes):
    """The form's example with fields changed (`a__0__b=value`) or removed (`=DROP`)."""
    data = copy.deepcopy(EXAMPLES[name])
    for key, value in changes.items():
        path = key.replace("__", "/")
        if value is DROP:
            _del(data, path)
        else:
            _set(data, path, value)
    return data


N = "incident_notification.json"
INVALID = [
    # the notification
    (N, variant(N, children__0__date_of_birth="2019-02-30"), "children/0/date_of_birth"),
    (N, variant(N, children__0__date_of_birth="14/03/2019"), "children/0/date_of_birth"),
    (N, variant(N, reasons_for_review=DROP), "reasons_for_review"),
    (N, variant(N, reasons_for_review=" \n  "), "reasons_for_review"),
    (N, variant(N, reasons_for_review=""), "reasons_for_review"),
    (N, variant(N, agencies=["police", " "]), "agencies/1"),
    (N, variant(N, reasons_for_review="x" * 10001), "reasons_for_review"),
    (N, variant(N, children=[CHILD] * 5), "children"),
    (N, variant(N, children=[]), "children"),
    (N, variant(N, children__0__name=DROP), "children/0/name"),
    (N, variant(N, children__0__shoe_size="2"), "children/0/shoe_size"),
    (N, variant(N, nickname="AJ"), "nickname"),
    (N, variant(N, regime="WT2010"), "regime"),  # the rules come from date_aware, never from the form
    (N, variant(N, regime="WT2018"), "regime"),
    (N, variant(N, care_leaver=DROP), "care_leaver"),
    (N, variant(N, abuse_or_neglect="maybe"), "abuse_or_neglect"),
    (N, variant(N, joint_working_concern="no"), "joint_working_concern"),
    (N, variant(N, child_died="yes"), "child_died"),
    (N, variant(N, dols_16_17=DROP), "dols_16_17"),
    (N, variant(N, date_aware="2026-13-01"), "date_aware"),
    (N, variant(N, notification_date="today"), "notification_date"),
    (N, variant(N, referrer__email="referrer at example.org"), "referrer/email"),
    (N, variant(N, referrer__email="referrer@localhost"), "referrer/email"),
    (N, variant(N, senior_officer__name=DROP), "senior_officer/name"),
    (N, variant(N, consideration_factors=["made_up"]), "consideration_factors/0"),
    (
        N,
        variant(N, consideration_factors=["child_protection_plan", "child_protection_plan"]),
        "consideration_factors",
    ),
    (N, variant(N, agencies=[]), "agencies"),
    (N, variant(N, family_composition__0__relationship=DROP), "family_composition/0/relationship"),
    (N, variant(N, other_services__1__to_date="June 2026"), "other_services/1/to_date"),
    # agency case information
    ("agency_case_information.json", variant("agency_case_information.json", chronology=[]), "chronology"),
    (
        "agency_case_information.json",
        variant("agency_case_information.json", chronology__0__date="2026-10-32"),
        "chronology/0/date",
    ),
    (
        "agency_case_information.json",
        variant("agency_case_information.json", chronology__1__event=""),
        "chronology/1/event",
    ),
    (
        "agency_case_information.json",
        variant("agency_case_information.json", records_reviewed=DROP),
        "records_reviewed",
    ),
    (
        "agency_case_information.json",
        variant("agency_case_information.json", timeframe__to_date=DROP),
        "timeframe/to_date",
    ),
    (
        "agency_case_information.json",
        variant("agency_case_information.json", parents__mother__age=30),
        "parents/mother/age",
    ),
    (
        "agency_case_information.json",
        variant("agency_case_information.json", completed_by__email="nobody"),
        "completed_by/email",
    ),
    # rapid review
    (
        "rapid_review_record.json",
        variant("rapid_review_record.json", lcspr_decision="no_lcspr"),
        "no_further_learning_reasons",
    ),
    (
        "rapid_review_record.json",
        variant("rapid_review_record.json", immediate_safeguarding=DROP),
        "immediate_safeguarding",
    ),
    (
        "rapid_review_record.json",
        variant("rapid_review_record.json", lcspr_criteria=["because"]),
        "lcspr_criteria/0",
    ),
    (
        "rapid_review_record.json",
        variant("rapid_review_record.json", absent_agencies__0__reason=DROP),
        "absent_agencies/0/reason",
    ),
    # executive ratification
    (
        "executive_ratification.json",
        variant("executive_ratification.json", executive_agrees=False),
        "executive_rationale",
    ),
    (
        "executive_ratification.json",
        variant("executive_ratification.json", decision_date=DROP),
        "decision_date",
    ),
    (
        "executive_ratification.json",
        variant("executive_ratification.json", signatories__0__partner="council"),
        "signatories/0/partner",
    ),
    # sub group and chair
    (
        "subgroup_recommendation.json",
        variant("subgroup_recommendation.json", recommendation="other_review"),
        "recommended_review_type",
    ),
    (
        "subgroup_recommendation.json",
        variant("subgroup_recommendation.json", significant_disagreement=True),
        "disagreement_details",
    ),
    (
        "subgroup_recommendation.json",
        variant("subgroup_recommendation.json", recommendation="maybe"),
        "recommendation",
    ),
    (
        "subgroup_recommendation.json",
        variant("subgroup_recommendation.json", member_views=[]),
        "member_views",
    ),
    (
        "subgroup_recommendation.json",
        variant("subgroup_recommendation.json", member_views__1__rationale=DROP),
        "member_views/1/rationale",
    ),
    ("chair_decision.json", variant("chair_decision.json", decision_date=DROP), "decision_date"),
    ("chair_decision.json", variant("chair_decision.json", decision_date="08/01/2027"), "decision_date"),
    (
        "chair_decision.json",
        variant("chair_decision.json", chair_decision="defer", review_decision=DROP, decision_date=DROP),
        "information_requested",
    ),
    ("chair_decision.json", variant("chair_decision.json", peer_challenge__date=DROP), "peer_challenge/date"),
    ("chair_decision.json", variant("chair_decision.json", chair_decision="postpone"), "chair_decision"),
    ("chair_decision.json", variant("chair_decision.json", review_decision="other_review"), "review_type"),
    ("chair_decision.json", variant("chair_decision.json", chair_rationale=DROP), "chair_rationale"),
    # multi-agency review request
    (
        "review_type_decision.json",
        variant("review_type_decision.json", recommended_review_type=DROP),
        "recommended_review_type",
    ),
    (
        "multi_agency_review_request.json",
        variant("multi_agency_review_request.json", request_reason=DROP),
        "request_reason",
    ),
    (
        "review_request_chair_decision.json",
        variant("review_request_chair_decision.json", chair_signature__date="soon"),
        "chair_signature/date",
    ),
    (
        "review_request_chair_decision.json",
        variant("review_request_chair_decision.json", review_approval="serious_case_review"),
        "review_approval",
    ),
    # proportionate returns: a chronology is needed unless the agency has no record of note (001 §4)
    ("agency_chronology.json", variant("agency_chronology.json", chronology=[]), "chronology"),
    ("agency_short_report.json", variant("agency_short_report.json", summary=DROP), "summary"),
    ("agency_report.json", variant("agency_report.json", learning_points=DROP), "learning_points"),
    # a practitioner event held says where, who facilitated and who could not come (001 §5)
    ("practitioner_event.json", variant("practitioner_event.json", venue=DROP), "venue"),
    (
        "practitioner_event.json",
        variant("practitioner_event.json", absent_practitioners=DROP),
        "absent_practitioners",
    ),
    (
        "practitioner_interview.json",
        variant("practitioner_interview.json", voluntary_agreement=DROP),
        "voluntary_agreement",
    ),
    # reviewer
    (
        "reviewer_appointment.json",
        variant("reviewer_appointment.json", conflict_of_interest__evidence=DROP),
        "conflict_of_interest/evidence",
    ),
    (
        "reviewer_appointment.json",
        variant("reviewer_appointment.json", conflict_of_interest=DROP),
        "conflict_of_interest",
    ),
    ("reviewer_appointment.json", variant("reviewer_appointment.json", reviewers=[]), "reviewers"),
    (
        "reviewer_appointment.json",
        variant("reviewer_appointment.json", reviewers__0__independent_of_case="yes"),
        "reviewers/0/independent_of_case",
    ),
    ("reviewer_appointment.json", variant("reviewer_appointment.json", contract__days=0), "contract/days"),
    # terms of reference
    (
        "terms_of_reference.json",
        variant("terms_of_reference.json", parallel_processes=[]),
        "parallel_processes",
    ),
    (
        "terms_of_reference.json",
        variant("terms_of_reference.json", police_cps_discussion__date=DROP),
        "police_cps_discussion/date",
    ),
    ("terms_of_reference.json", variant("terms_of_reference.json", key_questions=[]), "key_questions"),
    (
        "terms_of_reference.json",
        variant("terms_of_reference.json", parallel_processes__0__process="inquiry"),
        "parallel_processes/0/process",
    ),
    ("terms_of_reference.json", variant("terms_of_reference.json", agreed_date=DROP), "agreed_date"),
    # agency report
    (
        "agency_report.json",
        variant("agency_report.json", chronology__1__child_seen=DROP),
        "chronology/1/child_seen",
    ),
    (
        "agency_report.json",
        variant("agency_report.json", chronology__0__wishes_sought=DROP),
        "chronology/0/wishes_sought",
    ),
    (
        "agency_report.json",
        variant("agency_report.json", sign_off__quality_confirmed=False),
        "sign_off/quality_confirmed",
    ),
    ("agency_report.json", variant("agency_report.json", sign_off=DROP), "sign_off"),
    (
        "agency_report.json",
        variant("agency_report.json", recommendations__0__by_when="June"),
        "recommendations/0/by_when",
    ),
    (
        "agency_report.json",
        variant("agency_report.json", recommendations__0__achieved="done"),
        "recommendations/0/achieved",
    ),
    # practitioner interview
    (
        "practitioner_interview.json",
        variant("practitioner_interview.json", disagreements=DROP),
        "disagreements",
    ),
    (
        "practitioner_interview.json",
        variant("practitioner_interview.json", supporter__name=DROP),
        "supporter/name",
    ),
    (
        "practitioner_interview.json",
        variant("practitioner_interview.json", summary_given_date=DROP),
        "summary_given_date",
    ),
    (
        "practitioner_interview.json",
        variant("practitioner_interview.json", matters_covered__0__matter="weather"),
        "matters_covered/0/matter",
    ),
    (
        "practitioner_interview.json",
        variant("practitioner_interview.json", interviewee__previous_employment__0__from_date="2019"),
        "interviewee/previous_employment/0/from_date",
    ),
    # action plan
    ("action_plan_item.json", variant("action_plan_item.json", status="closed"), "closure_reason"),
    ("action_plan_item.json", variant("action_plan_item.json", status="implemented"), "completed_date"),
    ("action_plan_item.json", variant("action_plan_item.json", status="done"), "status"),
    ("action_plan_item.json", variant("action_plan_item.json", actions=[]), "actions"),
    ("action_plan_item.json", variant("action_plan_item.json", target_date=DROP), "target_date"),
    ("action_plan_item.json", variant("action_plan_item.json", lead__agency=DROP), "lead/agency"),
    (
        "action_plan_item.json",
        variant("action_plan_item.json", progress__0__date="last week"),
        "progress/0/date",
    ),
    # publication
    (
        "publication_decision.json",
        variant("publication_decision.json", publication_decision="not_published", publication_date=DROP),
        "justification",
    ),
    (
        "publication_decision.json",
        variant("publication_decision.json", publication_decision="improvements_only"),
        "justification",
    ),
    (
        "publication_decision.json",
        variant("publication_decision.json", publication_date=DROP),
        "publication_date",
    ),
    (
        "publication_decision.json",
        variant("publication_decision.json", delayed_by_other_proceedings=True),
        "delay_details",
    ),
    (
        "publication_decision.json",
        variant("publication_decision.json", delayed_by_other_proceedings=DROP),
        "delayed_by_other_proceedings",
    ),
    (
        "publication_decision.json",
        variant("publication_decision.json", date_removed="2028-06-31"),
        "date_removed",
    ),
    # independent chair's checklist
    (
        "independent_chair_checklist.json",
        variant("independent_chair_checklist.json", serious_harm=DROP, peer_consultation=DROP),
        "serious_harm",
    ),
    (
        "independent_chair_checklist.json",
        variant("independent_chair_checklist.json", peer_consultation=DROP),
        "peer_consultation",
    ),
    (
        "independent_chair_checklist.json",
        variant("independent_chair_checklist.json", peer_consultation__rationale=DROP),
        "peer_consultation/rationale",
    ),
    (
        "independent_chair_checklist.json",
        variant("independent_chair_checklist.json", culpability_score=6),
        "culpability_score",
    ),
    (
        "independent_chair_checklist.json",
        variant("independent_chair_checklist.json", public_interest_score=0),
        "public_interest_score",
    ),
    (
        "independent_chair_checklist.json",
        variant("independent_chair_checklist.json", culpability_score=2.5),
        "culpability_score",
    ),
    (
        "independent_chair_checklist.json",
        variant("independent_chair_checklist.json", methodology=DROP),
        "methodology",
    ),
    (
        "independent_chair_checklist.json",
        variant("independent_chair_checklist.json", signed_date=DROP),
        "signed_date",
    ),
    # chronology and overview report
    ("agency_chronology.json", variant("agency_chronology.json", chronology=[]), "chronology"),
    (
        "agency_chronology.json",
        variant("agency_chronology.json", chronology=[{"date": "2026-12-10", "event": "Visit."}] * 301),
        "chronology",
    ),
    ("overview_report.json", variant("overview_report.json", report_agreed_date=DROP), "report_agreed_date"),
    ("overview_report.json", variant("overview_report.json", recommendations=[]), "recommendations"),
    ("overview_report.json", variant("overview_report.json", board_sign_off__by=DROP), "board_sign_off/by"),
]


@pytest.mark.parametrize(
    "name,data,path",
    INVALID,
    ids=[f"{n.removesuffix('.json')}:{p}:{i}" for i, (n, _, p) in enumerate(INVALID)],
)
def test_invalid_submissions_fail_at_the_expected_field(name, data, path):
    assert error_paths(load(name), data) == {path}


VALID_VARIANTS = [
    # a single child, as before Working Together 2023; four, the most one notification may cover
    (N, variant(N, children=[CHILD])),
    (N, variant(N, children=[CHILD] * 4)),
    # only the required answers
    (N, {k: v for k, v in EXAMPLES[N].items() if k in load(N)["required"]}),
    # an agency with no record of note: no chronology rows
    (
        "agency_case_information.json",
        variant("agency_case_information.json", agency_involved=False, chronology=[]),
    ),
    # deferring needs no decision date; a decision with no peer challenge needs no peer details
    (
        "chair_decision.json",
        variant(
            "chair_decision.json",
            chair_decision="defer",
            review_decision=DROP,
            decision_date=DROP,
            information_requested="The police chronology.",
        ),
    ),
    ("chair_decision.json", variant("chair_decision.json", peer_challenge={"sought": False})),
    # the chair's checklist when the child died: no serious-harm question, no peer consultation
    (
        "independent_chair_checklist.json",
        variant(
            "independent_chair_checklist.json", child_died=True, serious_harm=DROP, peer_consultation=DROP
        ),
    ),
    (
        "independent_chair_checklist.json",
        variant(
            "independent_chair_checklist.json",
            proceed_with_scr=False,
            serious_harm="no",
            peer_consultation=DROP,
            culpability_score=DROP,
            public_interest_score=DROP,
            methodology=DROP,
        ),
    ),
    # not publishing, with the justification sent to the Panel and the Secretary of State
    (
        "publication_decision.json",
        variant(
            "publication_decision.json",
            publication_decision="not_published",
            publication_date=DROP,
            justification="Publication would identify the surviving child.",
        ),
    ),
    # a request without the optional circumstances and issues
    (
        "multi_agency_review_request.json",
        variant("multi_agency_review_request.json", circumstances=DROP, issues_of_importance=DROP),
    ),
    # "no record of note" is a complete return (001 §4)
    ("agency_chronology.json", variant("agency_chronology.json", no_record_of_note=True, chronology=DROP)),
    (
        "agency_report.json",
        variant(
            "agency_report.json",
            no_record_of_note=True,
            chronology=DROP,
            decisions_summary=DROP,
            analysis=DROP,
            diversity=DROP,
            learning_points=DROP,
            recommendations=DROP,
        ),
    ),
    (
        "agency_short_report.json",
        variant("agency_short_report.json", no_record_of_note=True, chronology=DROP, summary=DROP),
    ),
    # no practitioner event: how practitioners take part instead
    (
        "practitioner_event.json",
        {"event_held": False, "not_held_reason": "Individual conversations with each practitioner."},
    ),
    # no parallel processes, no police discussion needed
    (
        "terms_of_reference.json",
        variant(
            "terms_of_reference.json",
            parallel_processes_identified=False,
            parallel_processes=DROP,
            police_cps_discussion={"needed": False},
        ),
    ),
    (
        "practitioner_interview.json",
        variant(
            "practitioner_interview.json",
            summary_agreement="not_yet_shared",
            summary_given_date=DROP,
            disagreements=DROP,
        ),
    ),
]


@pytest.mark.parametrize(
    "name,data",
    VALID_VARIANTS,
    ids=[f"{n.removesuffix('.json')}:{i}" for i, (n, _) in enumerate(VALID_VARIANTS)],
)
def test_valid_variants(name, data):
    assert error_paths(load(name), data) == set()
