"""The case page's "Statutory deadlines" table lists every clock of the procedure from the day the case starts
(003 §3.4-§4.6): the local authority's five working days (003 §3.6), the rapid review's ten and fifteen
working days from the notification (003 §3.4, §4.4, §4.6), each with its due date, and the later ones with
when they start. Read from the page's HTML, without a browser; on a 375 px wide phone the table stacks, one
block per deadline."""

from __future__ import annotations

from html.parser import HTMLParser

from tests.scenarios.driver import Partnership
from tests.web.conftest import sign_in, sign_in_client


class DeadlineRows(HTMLParser):
    """The rows of the deadlines table: key -> {column label: text}."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self._in_table = False
        self._row: dict[str, str] | None = None
        self._label: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "statutory-deadlines":
            self._in_table = True
        elif self._in_table and tag == "tr" and attrs.get("data-deadline"):
            self._row = self.rows.setdefault(attrs["data-deadline"], {"status": attrs.get("data-status", "")})
        elif self._row is not None and tag in ("td", "th") and attrs.get("data-label"):
            self._label = attrs["data-label"]
            self._row[self._label] = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._label = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._in_table = False

    def handle_data(self, data):
        if self._row is not None and self._label:
            self._row[self._label] = " ".join((self._row[self._label] + " " + data).split())


def deadline_rows(html: str) -> dict[str, dict[str, str]]:
    parser = DeadlineRows()
    parser.feed(html)
    return parser.rows


def test_the_case_page_shows_every_statutory_clock_on_day_zero(app, service):
    """003 §3.6 (R1, R2) and §3.4, §4.4, §4.6 (R4, R5, R6): due dates on the day the notification arrives; the
    local review's clocks (003 §4.7, §7.8) say when they start."""
    started = Partnership(service).start(date_aware="2026-12-18", notification_date=None)
    client = app.test_client()
    sign_in_client(client, "manager")
    response = client.get(f"/cases/{started['id']}")
    assert response.status_code == 200
    rows = deadline_rows(response.get_data(as_text=True))
    assert {k: rows[k]["Due"] for k in ("R1", "R2")} == {"R1": "29 December 2026", "R2": "29 December 2026"}
    rapid = [
        r
        for r in service.queries.list_instances(service.users.actor("manager"), process_id="rapid_review")
        if r["business_key"] == started["business_key"]
    ]
    if not rapid:  # not handed over yet: the rapid review's clocks are on this case
        assert {k: rows[k]["Due"] for k in ("R4", "R5", "R6")} == {
            "R4": "7 January 2027",
            "R5": "7 January 2027",
            "R6": "14 January 2027",
        }
        assert all(
            rows[k]["status"] == "pending" and rows[k]["Status"].startswith("Pending") for k in ("R4", "R6")
        )
        assert "rapid review" in rows["R4"]["Deadline"].lower() and "(R4)" in rows["R4"]["Deadline"]
        assert rows["R8"]["Due"] == "Starts when the decision to hold a review is made"
        assert rows["R6"]["Source"].startswith(
            "B&NES rapid review and practice review procedures (2020), paragraph 4.6"
        )
        assert "003 §4.6" in rows["R6"]["Source"]  # the citation second, as the documents number it
    else:  # handed over: shown with a link to the case that runs them
        assert {k: rows[k]["Due"] for k in ("R4", "R6")} == {"R4": "7 January 2027", "R6": "14 January 2027"}
        assert f'href="/cases/{rapid[0]["id"]}"' in response.get_data(as_text=True)
    assert {"Deadline", "Due", "Status", "Source"} <= set(rows["R1"])
    assert rows["R1"]["Deadline"].endswith("(R1)")  # the plain name first, the key second


def test_the_deadlines_table_fits_a_375_pixel_phone(page, service):
    """003 §3.4-§4.6: managers read the clocks on a phone too; nothing runs off the side of a 375 px
    screen."""
    started = Partnership(service).start(date_aware="2026-12-18", notification_date=None)
    sign_in(page, "manager")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/cases/{started['id']}")
    table = page.locator("#statutory-deadlines")
    assert table.locator("tr[data-deadline='R1']").count() == 1
    assert table.evaluate("t => t.getBoundingClientRect().right") <= 375
    assert table.locator("tr[data-deadline='R1']").evaluate("r => getComputedStyle(r).display") == "block"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
