"""The calendar feed's text (engine/services/feeds.py): what a calendar program reads back is what the
deadline says, whatever its characters, and every line keeps to RFC 5545's 75 octets."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar

from engine.services.feeds import to_ics

SUMMARY_TEXT = "Überprüfung, Sofía's plan; Zoë —\nthe strategy meeting, «urgent»; 子ども 🙂"


def test_a_summary_with_commas_semicolons_a_newline_and_non_ascii_text_reads_back_as_written():
    event = {
        "uid": "deadline-42@reviewflow",
        "key": "R1",
        "name": SUMMARY_TEXT * 2,
        "due_date": dt.date(2027, 1, 4),
        "source": "Working Together 2018, chapter 4; §12",
        "business_key": "RF-2026-0042",
    }
    text = to_ics([event], dt.datetime(2026, 12, 21, 9, tzinfo=dt.UTC))

    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))
    [read] = Calendar.from_ical(text).walk("VEVENT")
    assert str(read["SUMMARY"]) == f"RF-2026-0042 R1: {SUMMARY_TEXT * 2}"
    assert str(read["DESCRIPTION"]) == (
        f"{SUMMARY_TEXT * 2} (Working Together 2018, chapter 4; §12). Due by the end of this day."
    )
    assert str(read["UID"]) == "deadline-42@reviewflow"
    assert read["DTSTART"].dt == dt.date(2027, 1, 4) and read["DTEND"].dt == dt.date(2027, 1, 5)
