"""The staff's daily work in a real browser: sign in, the task list, a task's form with invalid then
valid answers, drafts, adding rows, claiming, and starting a case."""

from __future__ import annotations

from tests.web.conftest import ROLES, axe_violations, sign_in


def test_each_role_signs_in_and_sees_only_its_menu(page):
    expected = {
        "bu": {"Tasks", "Start a case", "Answers to record", "Calendar"},
        "manager": {
            "Tasks",
            "Start a case",
            "Answers to record",
            "Cases",
            "Dashboard",
            "Calendar",
            "Administration",  # the calendar and the outbox, to read
        },
        "owner": {"Tasks", "Modeller", "Calendar"},
        "police": {"Tasks", "Calendar"},
    }
    for username in ROLES:
        sign_in(page, username)
        assert page.locator("h1").inner_text() == "Your tasks"
        menu = set(page.locator(".govuk-service-navigation__list a").all_inner_texts())
        if username in expected:
            assert menu == expected[username], username
        page.click("button:has-text('Sign out')")
        page.wait_for_url("**/sign-in")


def test_wrong_password_then_too_many_attempts(page):
    page.goto("/sign-in")
    for _ in range(5):
        page.fill("#username", "bu")
        page.fill("#password", "not the password")
        page.click("button:has-text('Sign in')")
        assert "The user name or password is not right" in page.locator(".govuk-error-summary").inner_text()
    page.fill("#username", "bu")
    page.fill("#password", "demo password 1")  # right, but refused while the limit lasts
    page.click("button:has-text('Sign in')")
    assert "Too many attempts" in page.locator(".govuk-error-summary").inner_text()


def test_task_list_groups_and_rates_deadlines(page, service):
    sign_in(page, "la")
    teams = page.locator("table:has(caption:has-text('For my teams')) tbody tr")
    steps = {
        row.get_attribute("data-task"): row.locator("[data-rag]").get_attribute("data-rag")
        for row in teams.all()
    }
    # the looked-after death was notified 11 days ago: its notifications are overdue; the new case is on time
    assert steps["notify_sos_ofsted"] == "red" and steps["check_other_children"] == "grey"
    page.click(
        "table:has(caption:has-text('For my teams')) tr[data-task='check_other_children'] "
        "button:has-text('Claim')"
    )
    assert (
        page.locator(
            "table:has(caption:has-text('Assigned to me')) tr[data-task='check_other_children']"
        ).count()
        == 1
    )
    page.click(
        "table:has(caption:has-text('Assigned to me')) tr[data-task='check_other_children'] "
        "button:has-text('Unclaim')"
    )
    assert (
        page.locator(
            "table:has(caption:has-text('For my teams')) tr[data-task='check_other_children']"
        ).count()
        == 1
    )
    assert axe_violations(page) == []


def test_a_form_refuses_bad_answers_keeps_a_draft_and_then_completes(page, service):
    sign_in(page, "la")
    page.click("tr[data-task='check_other_children'] a")
    assert "What the procedures say" in page.inner_text("aside")
    page.click("button:has-text('Submit') >> nth=1")
    summary = page.locator(".govuk-error-summary")
    assert "Select yes if other children are at risk" in summary.inner_text()
    assert page.locator("#f-other_children_at_risk-error, .govuk-error-message").count() >= 1
    assert axe_violations(page) == []
    page.check("#f-other_children_at_risk")  # Yes
    page.fill("#f-safety_actions", "Sibling staying with grandparent. <script>alert(1)</script>")
    page.click("button:has-text('Save as draft')")
    assert "saved" in page.locator(".govuk-notification-banner").inner_text()
    page.click("tr[data-task='check_other_children'] a")
    assert page.input_value("#f-safety_actions").endswith("<script>alert(1)</script>")
    page.check("#f-child_protection_plan-2")  # not now, but in the past
    page.check("#f-records_secured")
    page.click("button:has-text('Submit') >> nth=1")
    assert "is done for case" in page.locator(".govuk-notification-banner").inner_text()
    [case] = [
        i
        for i in service.queries.list_instances(service.users.actor("manager"))
        if i["active_steps"]
        and "Notify the Panel and the safeguarding partners" in i["active_steps"]
        and i["summary"].get("date_aware") == "2026-12-21"
    ]
    # the check ran beside the notifications (003 §3.4-3.6): its answers join the case's data once they are
    # made
    la = service.users.actor("la")
    [notice] = [
        t
        for t in service.tasks.for_user(la)
        if t["instance_id"] == case["id"] and t["element_id"] == "notify_panel_and_partners"
    ]
    service.instances.complete_task(
        notice["id"], {"date_sent": "2026-12-21", "sent_by": "Officer Example, Head of Service"}, la
    )
    data = service.queries.get_instance(case["id"], service.users.actor("manager"))["data"]
    assert data["safety_actions"].endswith("<script>alert(1)</script>")  # kept as typed, shown as text


def fill_date(page, field: str, day: str) -> None:
    year, month, dom = day.split("-")
    page.fill(f"#f-{field}-day", str(int(dom)))
    page.fill(f"#f-{field}-month", str(int(month)))
    page.fill(f"#f-{field}-year", year)


def answer_incident(page, presenting_issues: str, agencies: str, reasons: str) -> None:
    """The notification's dates, criteria (a child seriously harmed, abuse suspected), the agencies and
    the people making it: everything but the children."""
    fill_date(page, "incident_date", "2026-12-18")
    fill_date(page, "date_aware", "2026-12-18")
    for name in (
        "child_died",
        "looked_after",
        "care_leaver",
        "regulated_setting",
        "outside_england",
        "custody_or_detention",
        "dols_16_17",
    ):
        page.check(f"#f-{name}-2")  # No
    page.check("#f-seriously_harmed")  # Yes
    page.check("#f-abuse_or_neglect-2")  # suspected
    page.check("#f-joint_working_concern-2")  # unknown
    page.fill("#f-presenting_issues", presenting_issues)
    agencies_asked = page.locator("fieldset:has(#f-agencies)")
    for name in agencies.splitlines():  # ticked in the partnership's list, one a line as given
        agencies_asked.get_by_label(name, exact=True).check()
    page.fill("#f-reasons_for_review", reasons)
    page.fill("#f-senior_officer-name", "Director Example")
    page.fill("#f-senior_officer-role", "Director of Children's Services")
    page.fill("#f-referrer-name", "Referrer Example")
    page.fill("#f-referrer-role", "Designated safeguarding lead")
    page.fill("#f-referrer-agency", "Example School")
    page.fill("#f-referrer-email", "referrer@example.org")


def test_start_a_case_with_two_children_added_one_by_one(page, service):
    sign_in(page, "referrer")
    page.click("a:has-text('Start a case')")
    assert page.locator("h1").inner_text() == "Notify a serious incident"
    assert axe_violations(page) == []
    page.click("button:has-text('Send the notification')")  # nothing filled in
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Enter date of the incident" in summary or "incident" in summary.lower()
    assert page.locator("#f-regime-1").count() == 0  # the rules come from the date the LA became aware
    page.fill("#f-children-0-name", "Child Z Example")
    fill_date(page, "children-0-date_of_birth", "2019-04-02")
    page.click("button:has-text('Add another child')")
    page.fill("#f-children-1-name", "Child Y Example")
    fill_date(page, "children-1-date_of_birth", "2021-02-30")  # not a real date
    answer_incident(
        page,
        "Admitted to hospital with a fractured skull.",
        "Police\nHealth",
        "Serious harm with suspected abuse; concerns about information sharing.",
    )
    page.click("button:has-text('Send the notification')")
    errors = page.locator(".govuk-error-summary").inner_text()
    assert (
        "real date" in errors and page.input_value("#f-children-1-date_of_birth-day") == "30"
    )  # kept as typed
    fill_date(page, "children-1-date_of_birth", "2021-02-28")
    page.click("button:has-text('Send the notification')")
    reference = page.locator(".govuk-panel__body strong").inner_text()
    assert reference.startswith("RF-")
    [case] = [
        i
        for i in service.queries.list_instances(service.users.actor("manager"))
        if i["business_key"] == reference and i["process_id"] == "incident_notification"
    ]
    data = service.queries.get_instance(case["id"], service.users.actor("manager"))["data"]
    assert [c["name"] for c in data["children"]] == ["Child Z Example", "Child Y Example"]
    # in the directory's order (by name), whatever order they were ticked in
    assert data["agencies"] == ["health", "police"] and data["seriously_harmed"] is True
    assert service.tasks.for_user(service.users.actor("la"))[0]["business_key"] in {reference} or any(
        t["business_key"] == reference for t in service.tasks.for_user(service.users.actor("la"))
    )


def test_a_manager_reassigns_a_task_to_a_colleague(page, service):
    task = next(
        t
        for t in service.tasks.for_user(service.users.actor("la"))
        if t["element_id"] == "check_other_children"
    )
    service.tasks.claim(task["id"], service.users.actor("la"))
    sign_in(page, "manager")
    row = page.locator(
        "table:has(caption:has-text('Claimed by colleagues')) tr[data-task='check_other_children']"
    )
    assert "claimed by la" in row.inner_text()
    row.locator("select").select_option("admin")
    row.locator("button:has-text('Reassign')").click()
    assert "now assigned to admin" in page.locator(".govuk-notification-banner").inner_text()
    assert (
        next(t for t in service.tasks.claimed(service.users.actor("manager")) if t["id"] == task["id"])[
            "assignee"
        ]
        == "admin"
    )
    history = service.queries.get_instance(task["instance_id"], service.users.actor("manager"))["history"]
    assert any(
        h["kind"] == "task_reassigned"
        and h["actor"] == "manager"
        and h["detail"] == {"before": "la", "after": "admin"}
        for h in history
    )
    assert all(
        "(la)" in o or "(admin)" in o
        for o in page.locator("tr[data-task='check_other_children'] select option").all_inner_texts()
    )  # only people holding the role
