"""The partnership's directory of agencies (engine/agencies.py) and the form keyword that chooses from it
(``x-directory``, engine/services/forms.py): an agency typed as free text became a role nobody held, so
its request was seen by no one; a form now names agencies only by their keys in the directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import agencies, config
from engine.services import forms

SHIPPED = Path(__file__).resolve().parents[2] / "processes" / "agencies.toml"

GOOD = """\
[agencies.police]
name = "Police"
safeguarding_lead = "police-lead@example.org"

[agencies.childrens_social_care]
name = "Children's social care"
role = "Agency: Children's services"
"""


def _file(tmp_path, text: str) -> Path:
    path = tmp_path / "agencies.toml"
    path.write_text(text)
    return path


def test_each_agency_has_a_key_a_name_a_role_and_maybe_its_safeguarding_lead(tmp_path):
    directory = agencies.load(_file(tmp_path, GOOD))

    assert [(a.key, a.name, a.role, a.safeguarding_lead) for a in directory.agencies] == [
        ("police", "Police", "Agency: Police", "police-lead@example.org"),
        ("childrens_social_care", "Children's social care", "Agency: Children's services", None),
    ]
    assert directory.get("police").name == "Police" and directory.get("Police") is None
    assert directory.find("Police").key == "police"  # a case begun with typed names still finds it
    assert directory.name_of("childrens_social_care") == "Children's social care"
    assert directory.name_of("Youth offending") == "Youth offending"


def test_the_settings_name_the_file_beside_the_processes_unless_told_otherwise(tmp_path):
    settings = config.load({"REVIEWFLOW_PROCESSES_DIR": str(tmp_path)})
    assert settings.agencies == tmp_path / "agencies.toml"
    elsewhere = tmp_path / "partnership.toml"
    assert config.load({"REVIEWFLOW_AGENCIES_FILE": str(elsewhere)}).agencies == elsewhere


def test_the_shipped_directory_is_valid_and_has_the_demo_agencies():
    assert agencies.problems(SHIPPED) == []
    roles = {a.role for a in agencies.load(SHIPPED).agencies}
    assert {"Agency: Police", "Agency: Health"} <= roles


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        (
            '[agencies.police]\nname = "Police"\n\n[agencies.Health Visiting]\nname = "H"\n',
            4,
            "not valid TOML",
        ),
        ('[agencies.police]\nname = "Police"\n\n[agencies.Health]\nname = "Health"\n', 4, "lower-case"),
        (
            '[agencies.police]\nname = "Police"\n[agencies.health]\nrole = "Agency: Health"\n',
            3,
            "needs a name",
        ),
        ('[agencies.police]\nname = "Police"\nrole = "Business Unit"\n', 1, "starts with 'Agency: '"),
        ('[agencies.police]\nname = "Police"\nsafeguarding_lead = "the duty desk"\n', 1, "e-mail address"),
        ('[agencies.police]\nname = "Police"\nphone = "101"\n', 1, "unknown field(s) phone"),
        ('# none yet\n[agencies.a]\nname = "Police"\n\n[agencies.b]\nname = "police"\n', 5, "same name"),
        ("[recipients]\npanel = 'x@example.org'\n", 1, "no agency is listed"),
    ],
)
def test_a_problem_names_the_file_the_line_and_what_is_wrong(tmp_path, text, line, what):
    path = _file(tmp_path, text)
    with pytest.raises(agencies.DirectoryError) as refused:
        agencies.load(path)
    assert any(p.startswith(f"{path}:{line}: ") and what in p for p in refused.value.problems), (
        refused.value.problems
    )
    assert agencies.problems(path) == refused.value.problems


def test_a_missing_file_is_a_problem_for_check_and_an_empty_directory_for_forms(tmp_path):
    missing = tmp_path / "agencies.toml"
    assert "missing" in agencies.problems(missing)[0]
    assert agencies.load(missing).agencies == ()


def test_a_corrected_file_is_read_again(tmp_path):
    path = _file(tmp_path, GOOD)
    assert agencies.load(path).get("education") is None
    path.write_text(GOOD + '\n[agencies.education]\nname = "Education"\n')
    assert agencies.load(path).get("education").name == "Education"


# --- the form keyword ----------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {
        "agencies": {
            "title": "Agencies asked for information",
            "type": "array",
            "x-directory": {"directory": "agencies", "preselect": "agencies"},
            "items": {"type": "string"},
        },
        "lead": {"title": "Lead agency", "type": "string", "x-directory": "agencies"},
    },
}


def _problems(tmp_path, data):
    directory = agencies.load(_file(tmp_path, GOOD))
    with forms.in_case(forms.case_context({}, {}, agencies=directory)):
        return forms.validate(SCHEMA, data)


def test_keys_of_the_directory_are_accepted(tmp_path):
    assert _problems(tmp_path, {"agencies": ["police", "childrens_social_care"], "lead": "police"}) == []


def test_a_typed_name_or_an_unknown_agency_is_refused_in_plain_english_at_its_place(tmp_path):
    problems = _problems(tmp_path, {"agencies": ["police", "Education"], "lead": "Police"})

    assert [(p["path"], p["kind"], p["message"]) for p in problems] == [
        (
            "agencies/1",
            "x-directory",
            "‘Education’ is not one of the partnership's agencies: choose it from the list",
        ),
        ("lead", "x-directory", "‘Police’ is not one of the partnership's agencies: choose it from the list"),
    ]


def test_the_directory_file_may_be_given_as_a_path_and_read_only_when_asked(tmp_path):
    path = _file(tmp_path, GOOD)
    with forms.in_case(forms.case_context({}, {}, agencies=path)):
        assert forms.validate(SCHEMA, {"lead": "police"}) == []
        assert forms.validate(SCHEMA, {"lead": "health"})[0]["path"] == "lead"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("agencies", None),
        ({"directory": "agencies", "preselect": "agencies"}, None),
        ("people", "x-directory names a directory: 'agencies'"),
        ({"directory": "agencies", "prefill": "agencies"}, "unknown setting(s): prefill"),
        ({"directory": "agencies", "preselect": "the agencies"}, "preselect names the case-data field"),
    ],
)
def test_check_refuses_a_misused_keyword(value, message):
    schema = {"type": "object", "properties": {"agencies": {"type": "array", "x-directory": value}}}
    found = forms.keyword_problems(schema)
    if message is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0][1].startswith(message), found


# --- the page: checkboxes or a choice, read back as keys ---------------------------------------------


def test_the_renderer_offers_the_directory_as_checkboxes_or_radios_and_reads_back_keys():
    from werkzeug.datastructures import MultiDict

    from web.ui import forms as web_forms

    shipped = [(a.key, a.name) for a in agencies.load(SHIPPED).agencies]
    values = web_forms.Values.from_data(SCHEMA, {"agencies": ["police", "health"]})
    asked, lead = web_forms.build(SCHEMA, {}, values, {})

    assert (asked.kind, [o[:2] for o in asked.options], asked.value) == (
        "checkboxes",
        shipped,
        ["police", "health"],
    )
    assert lead.kind == "radios" and [o[:2] for o in lead.options] == shipped
    posted = MultiDict([("agencies", "police"), ("agencies", "education"), ("lead", "police")])
    assert web_forms.parse(SCHEMA, posted) == ({"agencies": ["police", "education"], "lead": "police"}, {})
    required = {"path": "agencies", "kind": "required", "message": "'agencies' is a required property"}
    assert web_forms.message(SCHEMA, required) == "Select agencies asked for information"


def test_an_agency_nobody_can_act_for_carries_its_warning_beside_the_choice():
    from web.ui import choices
    from web.ui.filters import check_item, radio_item

    item = check_item(("education", "Education", choices.NOBODY), ["police"])
    assert item == {
        "value": "education",
        "text": "Education",
        "checked": False,
        "hint": {"text": choices.NOBODY, "classes": "rf-choice-warning"},
    }
    assert radio_item(("police", "Police", ""), "police") == {
        "value": "police",
        "text": "Police",
        "checked": True,
    }
    assert radio_item(("education", "Education", choices.NOBODY), "", "selected")["text"] == (
        "Education (nobody holds its role)"
    )


def test_on_the_page_a_refused_agency_reads_as_the_engines_plain_words(tmp_path):
    from web.ui import errors

    [problem] = _problems(tmp_path, {"agencies": ["Education"]})
    assert errors.message(SCHEMA, problem) == (
        "‘Education’ is not one of the partnership's agencies: choose it from the list"
    )


def test_a_form_titled_from_the_directory_reads_each_agency_by_its_name(tmp_path):
    directory = agencies.load(_file(tmp_path, GOOD))
    titled = agencies.titled(SCHEMA, directory)

    names = ["Police", "Children's social care"]
    assert titled["properties"]["agencies"]["items"] == {
        "type": "string",
        "enum": ["police", "childrens_social_care"],
        "x-enum-titles": names,
    }
    assert titled["properties"]["lead"]["x-enum-titles"] == names
    assert "enum" not in SCHEMA["properties"]["lead"]  # the form itself is left as it was
    assert agencies.titled(SCHEMA, agencies.Directory()) == SCHEMA
