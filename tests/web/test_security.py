"""Every page and form tried anonymously and as every role: each gets what its role may see and
nothing else. Forms without a CSRF token are refused; script typed into a field is shown as text;
every page carries a strict content security policy."""

from __future__ import annotations

import io

import pytest

from tests.web import admin_routes
from tests.web.conftest import ROLES, csrf_of, sign_in_client

STAFF = set(ROLES)
STARTERS = {"referrer", "la", "bu", "manager", "admin"}
MANAGERS = {"manager", "admin"}
# who has a step in the scr_decision case of the demo, and managers: its documents
IN_THE_CASE = {"bu", "subgroup", "chair", "manager", "admin"}
RECORDERS = {"bu", "manager", "admin"}  # record answers from outside (the Panel's) on the cases they see
OWNERS = {"owner", "admin"}
EVERYONE = {None, *ROLES}  # None: nobody signed in
PDF = b"%PDF-1.7\n%%EOF\n"


def pdf(name: str) -> dict:
    """A document as the upload form sends it."""
    return {"document-upload": (io.BytesIO(PDF), name)}


@pytest.fixture
def world(service, app):
    manager = service.users.actor("manager")
    cases = service.queries.list_instances(manager)
    case = next(c for c in cases if c["process_id"] == "scr_decision")
    la_task = next(
        t
        for t in service.tasks.for_user(service.users.actor("la"))
        if t["element_id"] == "check_other_children"
    )
    started = next(
        c for c in cases if c["process_id"] == "incident_notification" and c["created_by"] == "referrer"
    )
    clients = {}
    for username in ROLES:
        client = app.test_client()
        sign_in_client(client, username)
        clients[username] = client
    clients[None] = app.test_client()
    document = service.documents.upload(manager, case["id"], "minutes.pdf", PDF)
    return {
        "case": case["id"],
        "task": la_task["id"],
        "started": started["id"],
        "document": document["id"],
        "clients": clients,
    }


def routes(w) -> list[tuple]:
    """(method, path, request options, roles allowed, statuses that mean 'allowed'[, the status that refuses
    the others: 403 unless given])."""
    c, t = w["case"], w["task"]
    bpmn = {"file": "incident_notification.bpmn", "xml": "<not-xml"}
    return [
        ("GET", "/", {}, STAFF, {200}),
        ("GET", f"/tasks/{t}", {}, {"la", "admin", "manager"}, {200}),  # a manager may look, not complete
        ("GET", f"/tasks/{t}/check", {}, {"la", "admin", "manager"}, {303}),  # nothing to check: the form
        ("POST", f"/tasks/{t}/check", {"data": {}}, {"la", "admin", "manager"}, {303}),  # nothing sent
        ("GET", "/cases/new", {}, STARTERS, {200}),
        ("GET", "/cases/new/review", {}, STARTERS, {200}),  # a review asked for (000 §10.1; 003 §5.6)
        ("GET", f"/cases/started/{w['started']}", {}, {"referrer"}, {200}, 404),  # its starter's confirmation
        ("GET", "/calendar", {}, STAFF, {200}),
        ("GET", "/cases", {}, MANAGERS, {200}),
        ("GET", "/cases.csv", {}, MANAGERS, {200}),
        ("GET", "/deadlines.csv", {}, MANAGERS, {200}),
        ("GET", f"/cases/{c}", {}, MANAGERS, {200}),
        ("GET", f"/cases/{c}/chronology.csv", {}, MANAGERS, {200}),
        ("GET", f"/cases/{c}/diagram.json", {}, MANAGERS, {200}),
        ("GET", "/dashboard", {}, MANAGERS, {200}),
        ("GET", "/due-soon", {}, MANAGERS, {200}),
        ("GET", "/due-soon.csv", {}, MANAGERS, {200}),
        ("GET", f"/documents/{w['document']}", {}, IN_THE_CASE, {200}),
        ("POST", f"/cases/{c}/documents", {"data": pdf("notes.pdf")}, IN_THE_CASE, {303}),
        ("POST", f"/tasks/{t}/documents", {"data": pdf("check.pdf")}, {"la", "manager", "admin"}, {303}),
        ("GET", "/awaited", {}, RECORDERS, {200}),  # answers from outside the person records
        # the case is not waiting for the Panel: 404 for those who would record it
        ("GET", f"/cases/{c}/awaited/national_panel_response", {}, RECORDERS, {404}),
        ("GET", "/modeller", {}, OWNERS, {200}),
        ("GET", "/modeller/rapid_review", {}, OWNERS, {200}),
        ("GET", "/modeller/rapid_review/download", {}, OWNERS, {200}),
        ("GET", "/modeller/decisions/scr_criteria", {}, OWNERS, {200}),
        ("POST", "/modeller/validate", {"json": bpmn}, OWNERS, {422}),
        ("POST", "/modeller/deploy", {"json": bpmn}, OWNERS, {422}),
        ("POST", "/modeller/upload", {"data": {}}, OWNERS, {302}),
        ("POST", f"/cases/{c}/suspend", {"data": {"reason": ""}}, MANAGERS, {302}),
        ("POST", f"/tasks/{t}/reassign", {"data": {"username": "la"}}, MANAGERS, {302}),
        ("POST", f"/tasks/{t}/claim", {"data": {}}, {"la", "admin"}, {302}),
        ("GET", "/account/multi-factor", {}, STAFF, {200}),
        ("GET", "/account/multi-factor/set-up", {}, STAFF, {200, 302}),  # 302: set up already
        ("POST", "/account/multi-factor/set-up", {"data": {"code": ""}}, STAFF, {422, 302}),
        ("POST", "/account/multi-factor/recovery-codes", {"data": {"code": ""}}, STAFF, {422, 302}),
        ("GET", "/account/e-mails", {}, STAFF, {200}),
        ("POST", "/account/e-mails", {"data": {"email": "", "new_task_emails": ""}}, STAFF, {422}),
        ("GET", "/healthz", {}, EVERYONE, {200}),  # probes: never sent to sign in
        ("GET", "/readyz", {}, EVERYONE, {200, 503}),  # 503 while no worker beats
        *admin_routes.routes(w),
    ]


def request(client, method, path, options, token):
    options = dict(options)
    if method == "POST":
        if "json" in options:
            options["headers"] = {"X-CSRFToken": token}
        else:
            options["data"] = {**options.get("data", {}), "csrf_token": token}
    return client.open(path, method=method, **options)


@pytest.mark.parametrize("who", [None, *ROLES])
def test_every_page_answers_each_role_with_what_it_may_see(world, who):
    client = world["clients"][who]
    token = csrf_of(client.get("/sign-in" if who is None else "/calendar").get_data(as_text=True))
    for method, path, options, allowed, ok, *refusal in routes(world):
        status = request(client, method, path, options, token).status_code
        if who in allowed:
            assert status in ok, (who, method, path, status)
        elif who is None:
            assert status == 302, (method, path, status)
        else:
            assert status == (refusal or [403])[0], (who, method, path, status)


def test_anonymous_people_are_sent_to_sign_in(world):
    client = world["clients"][None]
    response = client.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in?next=/dashboard"


def test_every_page_of_the_app_is_in_the_matrix(app, world):
    """A new page cannot be added without saying who may see it."""
    listed = {path.split("?")[0] for _, path, *_ in routes(world)}
    covered = {
        "/sign-in",
        "/sign-in/code",
        "/sign-out",
        "/accessibility",
        "/calendar",
        "/calendar/<token>.ics",
        "/static/<path:filename>",
        "/tasks/<task_id>/unclaim",
        "/modeller/<process_id>/download",
        "/cases/<id:instance_id>/<action>",
    }
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule in covered:
            continue
        concrete = (
            rule.rule.replace("/started/<id:instance_id>", f"/started/{world['started']}")
            .replace("<task_id>", str(world["task"]))
            .replace("<id:instance_id>", str(world["case"]))
            .replace("<process_id>", "rapid_review")
            .replace("<decision_id>", "scr_criteria")
            .replace("<id:document_id>", str(world["document"]))
            .replace("<message>", "national_panel_response")
        )
        assert concrete in listed, rule.rule


def test_a_form_without_its_csrf_token_is_refused(world, service):
    client = world["clients"]["manager"]
    response = client.post(f"/cases/{world['case']}/suspend", data={"reason": "no token"})
    assert response.status_code == 400 and "security token" in response.get_data(as_text=True)
    assert (
        service.queries.get_instance(world["case"], service.users.actor("manager"))["status"] != "suspended"
    )
    owner = world["clients"]["owner"]
    assert owner.post("/modeller/deploy", json={"file": "x.bpmn", "xml": "<x/>"}).status_code == 400
    la = world["clients"]["la"]
    assert la.post(f"/tasks/{world['task']}", data={"action": "submit"}).status_code == 400
    anon = world["clients"][None]
    assert anon.post("/sign-in", data={"username": "bu", "password": "demo password 1"}).status_code == 400


def test_script_typed_into_a_field_is_shown_as_text(world, service):
    client = world["clients"]["la"]
    page = client.get(f"/tasks/{world['task']}").get_data(as_text=True)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.post(
        f"/tasks/{world['task']}",
        data={"csrf_token": csrf_of(page), "action": "draft", "safety_actions": evil},
    )
    shown = client.get(f"/tasks/{world['task']}").get_data(as_text=True)
    assert evil not in shown
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in shown


def test_pages_carry_a_strict_content_security_policy_and_secure_cookies(world, app):
    response = world["clients"]["bu"].get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    diagram_csp = (
        world["clients"]["manager"].get(f"/cases/{world['case']}").headers["Content-Security-Policy"]
    )
    assert "style-src-attr 'unsafe-inline'" in diagram_csp and "script-src 'self' 'nonce-" in diagram_csp
    assert diagram_csp.count("unsafe-inline") == 1
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    nonce = csp.split("'nonce-", 1)[1].split("'", 1)[0]
    html = response.get_data(as_text=True)
    assert html.count("<script") == html.count(f'nonce="{nonce}"') + html.count('type="module"') + html.count(
        'type="application/json"'
    )
    assert response.headers["X-Frame-Options"] == "DENY"
    from engine.services import Reviewflow
    from tests.conftest import make_settings
    from web.app import create_app

    secure = create_app(
        Reviewflow(
            make_settings(app.extensions["reviewflow"].settings.database_url, REVIEWFLOW_SECRET_KEY="k" * 40)
        )
    )
    client = secure.test_client()
    token = csrf_of(client.get("/sign-in", base_url="https://localhost").get_data(as_text=True))
    signed = client.post(
        "/sign-in",
        data={"username": "bu", "password": "demo password 1", "csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/sign-in"},
    )
    cookie = signed.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_an_idle_session_ends(world, service):
    from engine import clock

    client = world["clients"]["bu"]
    assert client.get("/").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/")
    assert response.status_code == 302
    assert "inactive for 30 minutes" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_disabled_account_is_signed_out_at_once(world, service):
    client = world["clients"]["bu"]
    service.users.set_active("bu", False)
    assert client.get("/").status_code == 302


def test_the_api_keeps_its_bearer_tokens_and_needs_no_csrf_token(service, app):
    token = service.users.create_token("manager")
    client = app.test_client()
    case = next(c for c in service.queries.list_instances(service.users.actor("manager")))
    response = client.post(
        f"/api/v1/instances/{case['id']}/suspend",
        json={"reason": "checking"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert client.post(f"/api/v1/instances/{case['id']}/resume", json={"reason": "x"}).status_code == 401


@pytest.mark.parametrize(
    "target,lands",
    [
        ("/dashboard", "/dashboard"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ],
)
def test_sign_in_only_returns_to_a_page_of_this_site(app, target, lands):
    client = app.test_client()
    response = sign_in_client(client, "manager", next=target)  # a manager: after the password, a code
    assert response.status_code == 302 and response.headers["Location"] == lands


def test_odd_form_posts_change_nothing_and_break_nothing(world, service):
    client = world["clients"]["la"]
    page = client.get(f"/tasks/{world['task']}").get_data(as_text=True)
    token = csrf_of(page)
    for data in (
        {"action": "remove:children:999"},
        {"action": "add:nonexistent"},
        {"action": "remove:x:y"},
        {"action": "draft", "unknown_field": "x" * 10},
        {"children.rows": "-5", "action": "submit"},
        {"child_protection_plan": "not-an-option", "action": "submit"},
    ):
        response = client.post(f"/tasks/{world['task']}", data={"csrf_token": token, **data})
        assert response.status_code in (200, 302, 422), data
    assert service.tasks.get(world["task"], service.users.actor("la"))["state"] == "open"
    assert client.post(f"/cases/{world['case']}/explode", data={"csrf_token": token}).status_code in (
        403,
        404,
    )


def test_a_manager_may_look_at_a_task_but_not_complete_it(world, service):
    client = world["clients"]["manager"]
    page = client.get(f"/tasks/{world['task']}")
    assert page.status_code == 200
    for action in ("submit", "draft"):
        response = client.post(
            f"/tasks/{world['task']}",
            data={
                "csrf_token": csrf_of(page.get_data(as_text=True)),
                "action": action,
                "other_children_at_risk": "false",
                "child_protection_plan": "never",
                "records_secured": "true",
            },
        )
        assert response.status_code == 403, action
    assert service.tasks.get(world["task"], service.users.actor("la"))["state"] == "open"


def test_a_refusal_no_page_expected_is_shown_with_its_status_not_a_server_error(service):
    from engine.services.errors import Forbidden
    from web.app import create_app

    app = create_app(service)

    @app.get("/refusal")
    def refusal():
        raise Forbidden("not for you")

    response = app.test_client().get("/refusal")
    assert response.status_code == 403 and "You cannot see this page" in response.get_data(as_text=True)
