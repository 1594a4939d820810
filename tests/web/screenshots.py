"""Screenshots of the main pages for the README: `python -m tests.web.screenshots` (after `make install`);
name files (`... admin-outbox.png`) to take only those.

Serves a fresh demo database on loopback under the tests' fixed clock and photographs each page in
Debian's Chromium, into web/static/screenshots/."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from pathlib import Path

from engine import clock
from engine.services import Reviewflow, demo
from tests.conftest import PROCESS_OWNER, ROOT, make_settings
from tests.web.conftest import CHROMIUM, PASSWORD, set_up_authenticators, sign_in

OUT = ROOT / "web" / "static" / "screenshots"


def main(only: list[str] | None = None) -> None:
    from playwright.sync_api import sync_playwright
    from waitress.server import create_server

    from web.app import create_app

    clock.set_now("2026-12-21T09:00:00+00:00")
    db = Path(tempfile.mkdtemp()) / "reviewflow.db"
    service = Reviewflow(
        make_settings(
            f"sqlite:///{db}",
            REVIEWFLOW_INSECURE_COOKIES="1",
            REVIEWFLOW_SECRET_KEY="screenshots-only-secret-key",
        )
    )
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    demo.seed(service, password=PASSWORD)
    set_up_authenticators(service)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = create_server(create_app(service), host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    OUT.mkdir(parents=True, exist_ok=True)
    manager = service.users.actor("manager")
    chair_case = next(i for i in service.queries.list_instances(manager) if i["process_id"] == "scr_decision")
    police_task = service.tasks.for_user(service.users.actor("police"))[0]
    shots = [
        ("la", "/", "task-list.png", None),
        ("police", f"/tasks/{police_task['id']}", "task-form-errors.png", "submit"),
        ("manager", f"/cases/{chair_case['id']}", "case-page.png", "diagram"),
        ("manager", "/dashboard", "dashboard.png", None),
        ("owner", "/modeller/rapid_review", "modeller.png", "diagram"),
        ("admin", "/admin/calendar", "admin-calendar-preview.png", "calendar-preview"),
        ("admin", "/admin/outbox", "admin-outbox.png", None),
    ]
    shots = [s for s in shots if not only or s[2] in only]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        for who, path, name, then in shots:
            context = browser.new_context(
                base_url=f"http://127.0.0.1:{port}", viewport={"width": 1280, "height": 900}
            )
            page = context.new_page()
            sign_in(page, who, service=service)
            page.goto(path)
            if then == "diagram":
                page.wait_for_selector("[data-ready='true']")
            if then == "submit":
                page.locator("main form button[value='submit']:visible").first.click()
            if then == "calendar-preview":  # the substitute Boxing Day worked: what it would move
                for field, value in (("#day-day", "28"), ("#day-month", "12"), ("#day-year", "2026")):
                    page.fill(field, value)
                page.get_by_label("A working day", exact=True).check()
                page.fill("#note", "The office opens on the substitute Boxing Day")
                page.get_by_role("button", name="Preview the change").click()
            page.screenshot(path=str(OUT / name), full_page=name != "modeller.png")
            context.close()
            print("wrote", OUT / name)
        browser.close()
    server.close()
    shutil.rmtree(db.parent, ignore_errors=True)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
