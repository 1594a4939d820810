"""A form sent twice is done once: each form page carries a one-time token, so sending the notification
again (the back button and Send, a second click, two clicks at once) starts no second case, and sending a
task's answers again after it is done changes nothing and says so."""

from __future__ import annotations

import re
import threading

from tests.web.conftest import csrf_of, sign_in_client
from tests.web.test_start_confirmation import notifications

NOTIFICATION = {
    "children.rows": "1",
    "children.0.name": "Child D Example",
    "children.0.date_of_birth-day": "1",
    "children.0.date_of_birth-month": "6",
    "children.0.date_of_birth-year": "2018",
    "incident_date-day": "18",
    "incident_date-month": "12",
    "incident_date-year": "2026",
    "date_aware-day": "18",
    "date_aware-month": "12",
    "date_aware-year": "2026",
    "child_died": "false",
    "seriously_harmed": "true",
    "abuse_or_neglect": "suspected",
    "looked_after": "false",
    "care_leaver": "false",
    "regulated_setting": "false",
    "outside_england": "false",
    "custody_or_detention": "false",
    "dols_16_17": "false",
    "joint_working_concern": "yes",
    "presenting_issues": "Admitted to hospital with a head injury.",
    "agencies": "police",  # its key in processes/agencies.toml
    "reasons_for_review": "Serious harm with suspected abuse.",
    "senior_officer.name": "Senior Officer",
    "senior_officer.role": "Head of Service",
    "referrer.name": "Referrer Example",
    "referrer.role": "Social worker",
    "referrer.agency": "Children's social care",
    "referrer.email": "referrer@example.org",
    "action": "submit",
}


def form_tokens(html: str) -> dict:
    """The CSRF token and the page's one-time form token."""
    token = re.search(r'name="form_token" value="([^"]+)"', html)
    return {"csrf_token": csrf_of(html), **({"form_token": token.group(1)} if token else {})}


def referrer(app):
    client = app.test_client()
    sign_in_client(client, "referrer")
    return client


def test_sending_the_notification_page_twice_starts_one_case(app, service):
    client = referrer(app)
    page = client.get("/cases/new").get_data(as_text=True)
    sent = {**NOTIFICATION, **form_tokens(page)}
    before = notifications(service)
    first = client.post("/cases/new", data=sent)
    assert first.status_code == 303, first.get_data(as_text=True)[:2000]
    confirmation = first.headers["Location"]
    again = client.post("/cases/new", data=sent)  # the back button, then Send again
    assert again.status_code == 303 and again.headers["Location"] == confirmation
    assert notifications(service) == before + 1
    shown = client.get(confirmation).get_data(as_text=True)
    assert "You already sent this notification. It was not sent again" in shown
    assert "Notification received" in shown
    # a new page is a new notification
    fresh = {**NOTIFICATION, **form_tokens(client.get("/cases/new").get_data(as_text=True))}
    assert client.post("/cases/new", data=fresh).headers["Location"] != confirmation
    assert notifications(service) == before + 2


def test_two_clicks_at_once_start_one_case(app, service):
    """Two requests with the same cookie and the same page, at the same moment."""
    client = referrer(app)
    sent = {**NOTIFICATION, **form_tokens(client.get("/cases/new").get_data(as_text=True))}
    cookie = client.get_cookie("reviewflow_session").value
    before = notifications(service)
    start = threading.Barrier(2)
    answers = []

    def click():
        twin = app.test_client()
        twin.set_cookie("reviewflow_session", cookie)
        start.wait()
        answers.append(twin.post("/cases/new", data=sent))

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    assert sorted(a.status_code for a in answers) == [303, 303]
    assert notifications(service) == before + 1


def test_an_answer_with_errors_can_be_corrected_and_sent_with_the_same_page(app, service):
    client = referrer(app)
    tokens = form_tokens(client.get("/cases/new").get_data(as_text=True))
    before = notifications(service)
    wrong = client.post("/cases/new", data={**NOTIFICATION, **tokens, "presenting_issues": ""})
    assert wrong.status_code == 422 and notifications(service) == before
    assert form_tokens(wrong.get_data(as_text=True)).get("form_token") == tokens["form_token"]
    assert client.post("/cases/new", data={**NOTIFICATION, **tokens}).status_code == 303
    assert notifications(service) == before + 1


def test_sending_a_done_task_again_says_so_and_changes_nothing(app, service):
    la = service.users.actor("la")
    task = next(t for t in service.tasks.for_user(la) if t["element_id"] == "check_other_children")
    client = app.test_client()
    sign_in_client(client, "la")
    answers = {
        **form_tokens(client.get(f"/tasks/{task['id']}").get_data(as_text=True)),
        "action": "submit",
        "other_children_at_risk": "false",
        "child_protection_plan": "never",
        "records_secured": "true",
    }
    done = client.post(f"/tasks/{task['id']}", data=answers)
    assert done.status_code == 302
    case = service.queries.get_instance(task["instance_id"], service.users.actor("manager"))
    again = client.post(f"/tasks/{task['id']}", data={**answers, "records_secured": "false"})
    assert again.status_code == 303
    shown = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Your answers were not sent again" in shown
    after = service.queries.get_instance(task["instance_id"], service.users.actor("manager"))
    assert after["data"] == case["data"] and after["data"]["records_secured"] is True
    assert after["active_steps"] == case["active_steps"]
    # and from a page opened before it was done, without the token of the page that sent it
    other = {k: v for k, v in answers.items() if k != "form_token"}
    assert client.post(f"/tasks/{task['id']}", data=other).status_code == 303
    assert service.queries.get_instance(task["instance_id"], service.users.actor("manager")) == after
