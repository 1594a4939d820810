"""Process owners in the browser: open the modeller, change a diagram with the properties panel, see the
engine's errors on the diagram's elements, deploy a new version, and see new cases use it while cases
already running stay on theirs."""

from __future__ import annotations

import re

from tests.scenarios.driver import notification
from tests.web.conftest import axe_violations, sign_in


def select_element(page, element_id: str) -> None:
    """Click a step of the diagram, as a person does once they have scrolled it into view (a large diagram
    opens at a readable size, showing its first part)."""
    page.evaluate("id => window.reviewflowModeler.get('canvas').scrollToElement(id)", element_id)
    page.click(f".djs-element[data-element-id='{element_id}'] .djs-hit", force=True)


def test_change_validate_and_deploy_a_diagram(page, service):
    manager = service.users.actor("manager")
    before = {
        i["id"]: i["version"]
        for i in service.queries.list_instances(manager, process_id="incident_notification")
    }
    assert set(before.values()) == {1}
    sign_in(page, "owner")
    page.click("a:has-text('Modeller')")
    assert axe_violations(page) == []
    page.click("a:has-text('Edit Serious incident notification')")
    page.wait_for_selector("#canvas[data-ready='true']")
    select_element(page, "check_other_children")
    page.wait_for_selector("#prop-form")
    assert page.input_value("#prop-form") == "safety_check.json"
    page.select_option("#prop-form", "")  # a user task with no form
    page.click("#validate")
    summary = page.locator("#modeller-messages .govuk-error-summary")
    summary.wait_for()
    assert "check_other_children: user task names no form" in summary.inner_text()
    assert page.locator(".djs-element[data-element-id='check_other_children'].rf-error").count() == 1
    page.click("#deploy")  # refused: nothing deployed
    page.wait_for_selector("#deploy:not([disabled])")
    page.locator("#modeller-messages .govuk-error-summary").wait_for()
    assert service.catalog.versions("incident_notification", service.users.actor("owner"))[0]["version"] == 1
    page.select_option("#prop-form", "safety_check.json")
    # renamed away from its form's title, the step is refused until it says why (formTitleDiffers)
    page.fill("#prop-name", "Check that other children are safe")
    page.press("#prop-name", "Tab")
    page.click("#validate")
    summary.wait_for()
    assert "check_other_children" in summary.inner_text() and "title" in summary.inner_text()
    page.fill("#prop-name", "Check other children are safe")
    page.press("#prop-name", "Tab")
    page.fill("#prop-doc", "Check that the other children in the household are safe (003 §3.2).")
    page.press("#prop-doc", "Tab")
    page.click("#validate")
    page.locator("#modeller-messages .govuk-notification-banner").wait_for()
    assert page.locator(".rf-error").count() == 0
    page.click("#deploy")
    page.wait_for_selector("#modeller-messages:has-text('Deployed incident_notification version 2')")
    # the page says what is deployed now, without a reload that would lose the diagram
    page.wait_for_selector("#versions[data-refreshed='true']")
    assert page.locator("#current-version").inner_text().startswith("incident_notification: version 2")
    assert page.locator("#versions tbody tr").count() == 2
    assert "version 2" in page.locator("#versions tbody tr").first.inner_text()
    # the refused deploy and validation answered 422: the only errors the browser may report
    assert [e for e in page.console_errors if "422" not in e] == []
    # a new case uses the new version; the cases already running stay on version 1
    started = service.instances.start("incident_notification", notification(), service.users.actor("bu"))
    assert started["version"] == 2
    after = {
        i["id"]: i["version"]
        for i in service.queries.list_instances(manager, process_id="incident_notification")
    }
    assert {k: v for k, v in after.items() if k in before} == before
    new_task = [
        t
        for t in service.tasks.for_user(service.users.actor("la"))
        if t["instance_id"] == started["id"] and t["element_id"] == "check_other_children"
    ]
    la = service.users.actor("la")
    instructions = "Check that the other children in the household are safe (003 §3.2)."
    assert [service.tasks.get(t["id"], la)["documentation"] for t in new_task] == [instructions]
    old_steps = [
        t
        for t in service.tasks.for_user(la)
        if t["instance_id"] in before and t["element_id"] == "check_other_children"
    ]
    assert old_steps and all(
        service.tasks.get(t["id"], la)["documentation"] != instructions for t in old_steps
    )


def test_timer_deadline_key_and_service_handler_are_edited_in_the_panel(page, service):
    sign_in(page, "owner")
    page.goto("/modeller/rapid_review")
    page.wait_for_selector("#canvas[data-ready='true']")
    select_element(page, "ratify_rapid_review_r6_missed")
    page.wait_for_selector("#prop-deadline")
    assert page.input_value("#prop-deadline") == "R6" and page.input_value("#prop-timer-kind") == "deadline"
    page.select_option("#prop-deadline", "R7")
    select_element(page, "send_to_panel")
    page.wait_for_selector("#prop-handler")
    assert page.input_value("#prop-handler") == "send_notification"
    # parameters as fields of their types, written into the diagram as Python literals
    assert page.input_value("#prop-param-template") == "rapid_review_to_panel"
    assert page.input_value("#prop-param-to") == "panel"
    page.fill("#prop-param-template", "rapid_review_to_panel_v2")
    page.press("#prop-param-template", "Tab")
    # a dict has no field of its own: it is written as an expression
    assert (
        page.locator("#prop-param-extra").count() == 1
        and page.locator("#prop-param-extra-expression").count() == 0
    )
    page.check("#prop-param-template-expression")  # the same value, as the expression it is written as
    assert page.input_value("#prop-param-template") == "'rapid_review_to_panel_v2'"
    xml = page.evaluate("async () => (await window.reviewflowModeler.saveXML()).xml")
    assert 'deadline("R7")' in xml and "spiffworkflow:serviceTaskOperator" in xml
    [template] = re.findall(
        r'<spiffworkflow:parameter id="template"[^>]*>', xml.split('id="send_to_panel"', 1)[1]
    )[:1]
    assert 'value="&#39;rapid_review_to_panel_v2&#39;"' in template  # the Python literal, as XML writes it
    assert axe_violations(page) == []


def test_a_decision_table_opens_in_the_dmn_editor(page):
    sign_in(page, "owner")
    page.goto("/modeller/decisions/scr_criteria")
    page.wait_for_selector("#canvas[data-ready='true']")
    assert page.locator(".tjs-table").count() >= 1
    page.click("#validate")
    page.locator("#modeller-messages .govuk-notification-banner").wait_for()


def test_an_uploaded_broken_diagram_is_refused_without_javascript(service, client):
    import io

    from tests.web.conftest import csrf_of, sign_in_client

    sign_in_client(client, "owner")
    token = csrf_of(client.get("/modeller").get_data(as_text=True))
    bad = b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>"
    response = client.post(
        "/modeller/upload",
        data={"csrf_token": token, "files": (io.BytesIO(bad), "evil.bpmn")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "evil.bpmn" in body and "passwd" not in body.split("<main", 1)[1].split("DOCTYPE")[0]
    assert service.catalog.versions("incident_notification", service.users.actor("owner"))[0]["version"] == 1


def test_the_diagram_fills_the_window_and_zooms(page):
    """A process owner reads the diagram at a size they choose: the canvas is as wide as the window, a large
    diagram opens with its steps large enough to read, and the zoom buttons make it larger and smaller and
    fit all of it in the window."""
    sign_in(page, "owner")
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto("/modeller/rapid_review")
    page.wait_for_selector("#canvas[data-ready='true']")
    assert page.locator("h1").inner_text() == "Edit Rapid review"
    canvas = page.locator("#canvas").bounding_box()
    assert canvas["x"] == 30 and canvas["width"] >= 1600 - 2 * 30 - 320 - 20 - 2  # less margins and panel
    assert canvas["height"] >= 480

    def zoom() -> float:
        return page.evaluate("window.reviewflowModeler.get('canvas').zoom()")

    def step_width() -> float:  # a task is 100 units wide: 80 px at the zoom a large diagram opens at
        return page.locator(".djs-element[data-element-id='arrange_rapid_review'] .djs-hit").bounding_box()[
            "width"
        ]

    opened, width = zoom(), step_width()
    assert width >= 60
    assert page.locator("#zoom-level").inner_text() == f"Zoom {round(opened * 100)}%"
    page.click("#zoom-in")
    assert zoom() > opened and step_width() > width
    assert page.locator("#zoom-level").inner_text() == f"Zoom {round(zoom() * 100)}%"
    page.click("#zoom-out")
    page.click("#zoom-out")
    assert zoom() < opened
    page.click("#zoom-fit")
    whole = page.evaluate("""() => { const v = window.reviewflowModeler.get('canvas').viewbox();
        return v.inner.x >= v.x - 1 && v.inner.y >= v.y - 1 && v.inner.x + v.inner.width <= v.x + v.width + 1
               && v.inner.y + v.inner.height <= v.y + v.height + 1; }""")
    assert whole and zoom() < opened
    assert page.locator("#zoom-level").inner_text() == f"Zoom {round(zoom() * 100)}%"
    assert axe_violations(page) == []
    assert page.console_errors == []
