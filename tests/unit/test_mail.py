"""E-mail headers are built only from checked values (issue 8, finding 2)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import mail

NOW = dt.datetime(2026, 12, 21, 9, tzinfo=dt.UTC)
GOOD = [
    "panel-notifications@example.org",
    "reviewflow@localhost",
    "a.b+c@sub.example.co.uk",
    "o'neil@example.org",
]
BAD = [
    "panel@example.org\r\nBcc: spy@evil.example",
    "panel@example.org\n",
    "panel@example.org\r",
    "panel@@example.org",
    "@example.org",
    "panel@",
    "panel",
    "two@example.org, three@example.org",
    "Panel <panel@example.org>",
    "pa nel@example.org",
    "panel@exa mple.org",
    "panel@example..org",
    ".panel@example.org",
    "panel.@example.org",
    "panel@-example.org",
    "pänel@example.org",
    "panel\x00@example.org",
    "panel@example.org\u2028",
    '"quoted"@example.org',
    "x" * 65 + "@example.org",
    "a@" + "b" * 260,
    "",
]


@pytest.mark.parametrize("address", GOOD)
def test_plain_addresses_are_accepted(address):
    assert mail.check_address(address) == address


@pytest.mark.parametrize("address", BAD)
def test_anything_but_one_plain_address_is_refused_with_the_reason(address):
    with pytest.raises(mail.UnbuildableMessage, match="not a valid e-mail address"):
        mail.build_message("reviewflow@localhost", address, "Subject", "Body", "<x1@reviewflow>", NOW)


def test_a_line_break_in_the_subject_never_starts_a_header():
    email = mail.build_message(
        "reviewflow@localhost",
        "panel@example.org",
        "Notification SR-3\r\nBcc: spy@evil.example\u2028X-Other: 1\x00",
        "Line one\r\nLine two\n\ud800",
        "<x1@reviewflow>",
        NOW,
    )
    assert email["Subject"] == "Notification SR-3 Bcc: spy@evil.example X-Other: 1"
    raw = email.as_bytes()
    assert b"\nBcc:" not in raw and b"\nX-Other:" not in raw
    assert email["Message-ID"] == "<x1@reviewflow>"


def test_a_message_id_must_be_plain():
    with pytest.raises(mail.UnbuildableMessage):
        mail.build_message(
            "reviewflow@localhost", "panel@example.org", "S", "B", "<x1@reviewflow>\r\nBcc: a@b", NOW
        )


@pytest.mark.parametrize(
    "sender, header",
    [
        ("reviewflow@example.org", "reviewflow@example.org"),
        ("Safeguarding Partnership <sp@example.org>", "Safeguarding Partnership <sp@example.org>"),
    ],
)
def test_the_sender_may_carry_a_name(sender, header):
    assert mail.build_message(sender, "panel@example.org", "S", "B", "<x1@reviewflow>", NOW)["From"] == header


@pytest.mark.parametrize(
    "sender", ["Partnership <sp@example.org>\r\nBcc: a@b.org", "<>", "Name <a@b.org>, c@d.org"]
)
def test_a_sender_that_is_not_one_address_is_refused(sender):
    with pytest.raises(mail.UnbuildableMessage):
        mail.check_sender(sender)
