"""The deploy lint asks every step that waits for an answer from outside who records it, who sends it and the
form its data must satisfy (processes/README.md), naming the file and the step in each refusal."""

from __future__ import annotations

import pytest

from engine.bpmn.bundle import BundleInvalid, build, collect_files
from tests.conftest import ROOT

DEMO = "engine_demo.bpmn"
DECLARED = (
    b'<spiffworkflow:property name="recordedBy" value="Business Unit"/>\n'
    b'        <spiffworkflow:property name="sender" value="the Panel"/>\n'
    b'        <spiffworkflow:property name="formJsonSchemaFilename" value="demo_panel_response.json"/>'
)


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return collect_files([ROOT / "processes", ROOT / "forms"])


def problems(files: dict[str, bytes], declared: bytes) -> list[str]:
    assert DECLARED in files[DEMO]
    changed = {**files, DEMO: files[DEMO].replace(DECLARED, declared)}
    try:
        build(changed)
    except BundleInvalid as exc:
        return [str(p) for p in exc.problems]
    return []


def test_the_processes_as_shipped_declare_every_answer_they_wait_for(files):
    build(files)


def test_a_step_that_declares_nothing_is_refused_with_what_to_add(files):
    assert problems(files, b"") == [
        f"{DEMO}: panel_answer: the step waits for the message 'Panel response' but says no role records it "
        "(property recordedBy, e.g. 'Business Unit')",
        f"{DEMO}: panel_answer: the step waits for the message 'Panel response' but says not who sends it "
        "(property sender, e.g. 'the National Panel')",
        f"{DEMO}: panel_answer: the step waits for the message 'Panel response' but names no form for its "
        "data (property formJsonSchemaFilename)",
    ]


def test_a_role_nobody_holds_and_a_missing_form_are_refused(files):
    declared = (
        DECLARED.replace(b'value="Business Unit"', b'value="Panel clerk"')
        .replace(b"demo_panel_response.json", b"panel_reply.json")
        .replace(b'"/>', b'"/><spiffworkflow:property name="formUiSchemaFilename" value="nope.ui.json"/>', 1)
    )
    assert problems(files, declared) == [
        f"{DEMO}: panel_answer: recordedBy 'Panel clerk' is no lane of this file, so nobody may hold it "
        "(lanes: Business Unit, Contributing agency)",
        f"{DEMO}: panel_answer: form 'panel_reply.json' does not exist in forms/",
        f"{DEMO}: panel_answer: UI schema 'nope.ui.json' (formUiSchemaFilename) does not exist in forms/",
    ]


def test_two_steps_awaiting_one_message_must_declare_the_same(files):
    rapid = files["rapid_review.bpmn"]
    other = rapid.replace(b'value="panel_answer.json"', b'value="national_panel_view.json"', 1)
    try:
        build({**files, "rapid_review.bpmn": other})
    except BundleInvalid as exc:
        found = [str(p) for p in exc.problems]
    assert found == [
        "rapid_review.bpmn: panel_answer_no_review: the message 'panel_response' is also awaited by "
        "'panel_answer', which declares another recordedBy, sender or form: declare the same on both"
    ]
