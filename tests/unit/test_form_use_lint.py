"""`reviewflow check` refuses a form no step uses, and a step whose form's title differs from the step's name
unless the step says why (``formTitleDiffers``); engine/bpmn/form_use_lint.py."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from engine.bpmn import bundle, form_use_lint
from engine.bpmn.files import collect_files
from engine.bpmn.problems import Problem
from tests.conftest import ROOT


def diagram(*steps: str, process_props: str = "") -> etree._Element:
    """A process holding ``steps`` (user tasks or message events, as XML); only what the check reads."""
    return etree.fromstring(
        f"""<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>{process_props}</spiffworkflow:properties>
    </bpmn:extensionElements>
    {"".join(steps)}
  </bpmn:process>
</bpmn:definitions>""".encode()
    )


def step(step_id: str, name: str, form: str, ui: str = "", reason: str | None = None, tag="userTask") -> str:
    props = f'<spiffworkflow:property name="formJsonSchemaFilename" value="{form}"/>'
    if ui:
        props += f'<spiffworkflow:property name="formUiSchemaFilename" value="{ui}"/>'
    if reason is not None:
        props += f'<spiffworkflow:property name="formTitleDiffers" value="{reason}"/>'
    return (
        f'<bpmn:{tag} id="{step_id}" name="{name}"><bpmn:extensionElements><spiffworkflow:properties>'
        f"{props}</spiffworkflow:properties></bpmn:extensionElements></bpmn:{tag}>"
    )


def problems(roots: dict, forms: dict, new=None) -> list[tuple[str, str, str]]:
    found: list[Problem] = []
    form_use_lint.lint(roots, forms, found, new)
    return [(p.file, p.element_id, p.message) for p in found]


FORMS = {"tell.json": {"title": "Tell the family"}, "tell.ui.json": {}}


def test_a_step_titled_as_its_form_and_every_form_used_is_clean():
    roots = {"p.bpmn": diagram(step("t", "Tell the family", "tell.json", "tell.ui.json"))}
    assert problems(roots, FORMS) == []


def test_titles_are_compared_ignoring_case_and_spacing():
    roots = {"p.bpmn": diagram(step("t", "tell  the Family", "tell.json"))}
    assert problems(roots, FORMS) == []


def test_a_form_no_step_uses_is_refused_with_its_ui_file():
    roots = {"p.bpmn": diagram(step("t", "Tell the family", "tell.json"))}
    forms = {**FORMS, "old.json": {"title": "Old"}, "old.ui.json": {}}
    found = problems(roots, forms)
    assert [(f, e) for f, e, _ in found] == [("old.json", ""), ("old.ui.json", "")]
    assert "no step uses this form" in found[0][2] and "remove the file" in found[0][2]
    assert "no step uses this UI file" in found[1][2]


def test_a_start_form_and_a_message_events_form_are_used():
    roots = {
        "p.bpmn": diagram(
            step("t", "Tell the family", "tell.json"),
            step(
                "m",
                "Answer received",
                "answer.json",
                reason="named for what arrives",
                tag="intermediateCatchEvent",
            ),
            process_props='<spiffworkflow:property name="startForm" value="start.json"/>',
        )
    }
    forms = {
        **FORMS,
        "start.json": {"title": "Start"},
        "start.ui.json": {},
        "answer.json": {"title": "Answer"},
    }
    assert problems(roots, forms) == []


def test_a_step_whose_form_is_titled_for_another_step_is_refused():
    roots = {"p.bpmn": diagram(step("involve", "Involve the family", "tell.json"))}
    [(file, element, message)] = problems(roots, FORMS)
    assert (file, element) == ("p.bpmn", "involve")
    assert "'Involve the family' opens tell.json, titled 'Tell the family'" in message
    assert "formTitleDiffers" in message


def test_a_declared_reason_lets_a_shared_form_differ():
    roots = {
        "p.bpmn": diagram(
            step("a", "Notify the Panel", "tell.json", reason="one notification form; the step names who"),
            step("b", "Tell the family", "tell.json"),
        )
    }
    assert problems(roots, FORMS) == []


def test_a_reason_must_say_something_and_must_not_outlive_the_difference():
    roots = {
        "p.bpmn": diagram(
            step("blank", "Notify the Panel", "tell.json", reason="  "),
            step("stale", "Tell the family", "tell.json", reason="it used to differ"),
        )
    }
    found = {e: m for _, e, m in problems(roots, FORMS)}
    assert set(found) == {"blank", "stale"}
    assert "must say" in found["blank"]
    assert "is declared but the form's title is the step's name" in found["stale"]


def test_a_reason_on_a_step_with_no_form_is_refused():
    bare = '<bpmn:userTask id="x" name="X"><bpmn:extensionElements><spiffworkflow:properties>'
    bare += '<spiffworkflow:property name="formTitleDiffers" value="why"/>'
    bare += "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
    roots = {"p.bpmn": diagram(bare, step("t", "Tell the family", "tell.json"))}
    assert [(e, m) for _, e, m in problems(roots, FORMS)] == [
        ("x", "formTitleDiffers is set on a step with no form")
    ]


def test_only_the_files_being_checked_are_held_to_it():
    """A deployed form or diagram is not refused because an upload that does not touch it came later."""
    roots = {"p.bpmn": diagram(step("involve", "Involve the family", "tell.json"))}
    forms = {**FORMS, "old.json": {"title": "Old"}}
    assert problems(roots, forms, new={"other.json"}) == []
    assert [f for f, _, _ in problems(roots, forms, new={"old.json"})] == ["old.json"]
    assert [e for _, e, _ in problems(roots, forms, new={"tell.json"})] == ["involve"]
    assert [e for _, e, _ in problems(roots, forms, new={"p.bpmn"})] == ["involve"]


# --- through the bundle: what `reviewflow check` and a deployment run -------------------------------


def real_files() -> dict[str, bytes]:
    return collect_files([ROOT / "processes", ROOT / "forms"])


def test_the_bundle_refuses_an_unused_form_among_the_files_checked():
    files = {
        **real_files(),
        "nobody_uses_me.json": json.dumps({"title": "Nobody", "type": "object"}).encode(),
    }
    with pytest.raises(bundle.BundleInvalid) as caught:
        bundle.build(files, form_use=True, new={"nobody_uses_me.json"})
    assert [(p.file, p.element_id) for p in caught.value.problems] == [("nobody_uses_me.json", "")]


def test_the_bundle_refuses_a_step_renamed_away_from_its_form():
    files = real_files()
    name = "local_cspr_review.bpmn"
    files[name] = files[name].replace(b'name="Sign off the report"', b'name="Approve the report"')
    with pytest.raises(bundle.BundleInvalid) as caught:
        bundle.build(files, form_use=True, new={name})
    assert any(
        p.file == name and "'Approve the report' opens report_sign_off.json" in p.message
        for p in caught.value.problems
    )


def test_the_real_bundle_uses_every_form_and_titles_every_step_as_its_form():
    bundle.build(real_files(), form_use=True)  # processes/ and forms/ as `reviewflow check` reads them


def test_reviewflow_check_and_a_deployment_refuse_an_unused_form(service):
    from engine.services.errors import Invalid

    extra = {"nobody_uses_me.json": json.dumps({"title": "Nobody", "type": "object"}).encode()}
    with pytest.raises(Invalid) as caught:
        service.deployments.check({**real_files(), **extra})
    assert [(d["file"], d["element_id"]) for d in caught.value.details] == [("nobody_uses_me.json", "")]
    assert service.deployments.check(real_files()).processes  # the shipped files pass
