"""The partnership's staff in the browser, each in a browser of their own: sign in once, find a step in
the task list, read what the page shows, answer its form as a person types it (rows added with "Add
another", dates in three boxes, choices ticked) and send it, confirming on "Check your answers" where the
step asks. Nothing here calls the API or the service to move a case: the service is only read, to know
which steps a case has open."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.web.conftest import ROLES, sign_in

FORMS = Path(__file__).resolve().parents[2] / "forms"
WHO_HOLDS = {role: username for username, role in ROLES.items()}  # a role -> the demo account holding it


def field_id(name: str) -> str:
    """The id the form gives the input for the JSON path ``name`` (``children.0.name``)."""
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


@dataclass
class Answers:
    """A form's answers as the page's inputs take them: rows per list, then choices, then what is typed."""

    rows: dict[str, int] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)  # radios and checkboxes, by input name
    typed: dict[str, str] = field(default_factory=dict)  # by input name (a date: its three boxes)

    @classmethod
    def of(cls, schema: dict, data: dict) -> Answers:
        answers = cls()
        answers._add(schema, data, "")
        return answers

    def _add(self, schema: dict, value, name: str) -> None:
        kind = schema.get("type")
        if kind == "object" and isinstance(value, dict):
            for key, sub in schema.get("properties", {}).items():
                if key in value:
                    self._add(sub, value[key], f"{name}.{key}" if name else key)
        elif kind == "array" and isinstance(value, list):
            items = schema.get("items", {})
            if items.get("type") == "object":
                self.rows[name] = len(value)
                for i, row in enumerate(value):
                    self._add(items, row, f"{name}.{i}")
            elif "enum" in items or "x-directory" in schema:
                self.choices[name] = [str(v) for v in value]
            else:
                self.typed[name] = "\n".join(str(v) for v in value)
        elif schema.get("format") == "date" and isinstance(value, str):
            year, month, day = value.split("-")
            self.typed.update(
                {f"{name}-day": str(int(day)), f"{name}-month": str(int(month)), name + "-year": year}
            )
        elif isinstance(value, bool):
            self.choices[name] = ["true" if value else "false"]
        elif value is not None and ("enum" in schema or "x-directory" in schema):
            self.choices[name] = [str(value)]
        elif value is not None:
            self.typed[name] = str(value)


def schema_of(form: str) -> dict:
    return json.loads((FORMS / form).read_text(encoding="utf-8"))


def fill(page, schema: dict, data: dict) -> None:
    """Answer the form on ``page`` with ``data``: rows first (each "Add another" posts the page back), then
    the choices (which may reveal questions), then every typed answer, replacing what was there."""
    answers = Answers.of(schema, data)
    for _ in range(50):  # a row added inside a new row shows only once its parent is there
        short = [
            name
            for name, count in answers.rows.items()
            if page.locator(f'input[name="{name}.rows"]').count()
            and int(page.locator(f'input[name="{name}.rows"]').input_value()) < count
        ]
        if not short:
            break
        page.click(f'button[name="action"][value="add:{short[0]}"]')
        page.wait_for_load_state()
    for name, values in answers.choices.items():
        select = page.locator(f'select[name="{name}"]')
        if select.count():
            select.select_option(values)
            continue
        for box in page.locator(f'input[type="checkbox"][name="{name}"]').all():
            if box.get_attribute("value") not in values and box.is_checked():
                box.uncheck()
        for value in values:
            page.locator(f'input[name="{name}"][value="{value}"]').check()
    for name, text in answers.typed.items():
        page.locator(f'[name="{name}"]').fill(text)


@dataclass
class Staff:
    """The demo accounts, each signed in once in a browser context of their own."""

    browser: object
    address: str
    service: object
    pages: dict = field(default_factory=dict)

    def page(self, username: str):
        if username not in self.pages:
            context = self.browser.new_context(base_url=self.address, viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(15000)
            sign_in(page, username, service=self.service)
            self.pages[username] = page
        return self.pages[username]

    def visit(self, username: str, path: str):
        """``username`` goes to ``path``, signing in again if their session has ended since (weeks pass)."""
        page = self.page(username)
        page.goto(path)
        if "/sign-in" in page.url:
            sign_in(page, username, service=self.service)
            page.goto(path)
        return page

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()

    def open_step(self, username: str, reference: str, element_id: str):
        """``username`` opens the step from their task list, as they would: the row of this case."""
        page = self.visit(username, "/")
        row = page.locator(f"tr[data-task='{element_id}']:has-text('{reference}')")
        assert row.count(), (username, element_id, page.locator("tr[data-task]").all_inner_texts())
        row.locator("a[href*='/tasks/']").first.click()
        page.wait_for_url(re.compile(r".*/tasks/[0-9a-f-]+$"))
        return page

    def send(self, page, button: str = "Submit") -> None:
        """Send the form; confirm on "Check your answers" where the step asks for it; the form must be gone
        (an error summary fails the walk with what it says)."""
        page.locator(f"form button.govuk-button:has-text('{button}')").first.click()
        page.wait_for_load_state()
        if page.locator("h1:has-text('Check your answers')").count():
            page.click("button:has-text('Accept and send')")
            page.wait_for_load_state()
        summary = page.locator(".govuk-error-summary")
        assert not summary.count(), summary.inner_text()
