"""People's accounts as an administrator keeps them, through the service layer, on SQLite and PostgreSQL:
an invitation's one-time link (chosen password, used once, expired, withdrawn, replaced), a password reset
by e-mail (the same answer for every address, limited, a newer link spending the older, every session
ended), the people list found a page at a time, roles and agency, signing out everywhere and named API
tokens, each change audited with before and after, and every refusal changing nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, func, select

from engine import clock
from engine.services.actor import Actor
from engine.services.errors import Conflict, Forbidden, Invalid
from engine.services.people import Filters
from engine.store.models import AuditEvent, Invitation, OutboxMessage, PasswordReset, User, WebSession

ADMIN = Actor("ada", frozenset({"admin"}))
BASE = "https://reviews.example.org"
GOOD = "three random words here"


@pytest.fixture
def people(deployed):
    service = deployed
    service.users.add("ada", ["admin"], password="the admin's long passphrase", email="ada@example.org")
    service.users.add(
        "bina", ["Business Unit"], password="a long enough passphrase", email="bina@example.org"
    )
    return service


def _mails(service, template: str) -> list[tuple[str, str]]:
    with service.db.reading() as session:
        return [
            (m.recipient, m.body)
            for m in session.scalars(
                select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id)
            )
        ]


def _link(body: str, kind: str) -> str:
    return re.search(rf"{BASE}/{kind}/(\S+)", body).group(1)


def _audit(service, kind: str) -> list[tuple[str, dict]]:
    with service.db.reading() as session:
        return [
            (e.actor, e.detail)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)
            )
        ]


def _snapshot(service) -> tuple:
    """Everything a refusal must leave as it was."""
    with service.db.reading() as session:
        return (
            session.scalar(select(func.count()).select_from(User)),
            tuple(session.execute(select(User.username, User.password_hash, User.active).order_by(User.id))),
            session.scalar(select(func.count()).select_from(Invitation)),
            session.scalar(select(func.count()).select_from(PasswordReset)),
            session.scalar(select(func.count()).select_from(OutboxMessage)),
            session.scalar(select(func.count()).select_from(WebSession).where(WebSession.ended_at.is_(None))),
        )


# --- invitations ----------------------------------------------------------------------------------


def test_an_invitation_makes_a_disabled_account_and_its_link_sets_the_password_once(people):
    service = people
    made = service.invitations.invite(
        "Jo Bloggs", "Jo.Bloggs@police.example.org", ["Board"], "Agency: Police", ADMIN, BASE
    )
    assert made["username"] == "jo.bloggs"
    person = service.people.person("jo.bloggs")
    assert person["active"] is False and person["has_password"] is False
    assert person["all_roles"] == ["Agency: Police", "Board"]
    assert person["invitation"]["state"] == "open"
    [(to, body)] = _mails(service, "invitation")
    assert to == "Jo.Bloggs@police.example.org" and "jo.bloggs" in body
    token = _link(body, "invitation")
    with service.db.reading() as session:  # only the token's hash is kept
        assert (
            session.scalar(select(func.count()).select_from(Invitation).where(Invitation.token_hash == token))
            == 0
        )
    assert service.users.authenticate("jo.bloggs", GOOD) is None  # no password yet, and disabled

    link = service.invitations.link(token)
    assert (link.state, link.username) == ("open", "jo.bloggs")
    before = _snapshot(service)
    for weak in ("short", "qwertyqwerty", "jo.bloggs is my name", "x" * 257):
        with pytest.raises(Invalid):
            service.invitations.accept(token, weak, "10.0.0.1")
    assert _snapshot(service) == before  # a refused password changes nothing; the link still works

    accepted = service.invitations.accept(token, GOOD, "10.0.0.1")
    assert accepted.username == "jo.bloggs" and accepted.must_enrol is False
    assert service.sessions.resume(accepted.token).actor.username == "jo.bloggs"
    assert service.users.authenticate("jo.bloggs", GOOD) is not None
    assert service.invitations.link(token).state == "used"
    with pytest.raises(Conflict, match="used"):
        service.invitations.accept(token, "another good passphrase", "10.0.0.1")
    assert service.users.authenticate("jo.bloggs", GOOD) is not None  # unchanged by the second try
    [(_, spent)] = _mails(service, "invitation")
    assert token not in spent  # the outbox keeps no working link
    [(who, detail)] = _audit(service, "person_invited")
    assert who == "ada" and detail["after"]["roles"] == ["Agency: Police", "Board"]
    assert detail["before"] is None and detail["after"]["active"] is False
    [(who, detail)] = _audit(service, "invitation_accepted")
    assert (
        who == "jo.bloggs" and detail["before"] == {"active": False} and detail["after"] == {"active": True}
    )


def test_someone_whose_roles_need_a_second_factor_sets_it_up_after_choosing_a_password(people):
    service = people
    service.invitations.invite("Mo Manager", "mo@example.org", ["manager"], None, ADMIN, BASE)
    token = _link(_mails(service, "invitation")[0][1], "invitation")
    accepted = service.invitations.accept(token, GOOD, "10.0.0.1")
    assert accepted.must_enrol is True
    assert service.sessions.resume(accepted.token).must_enrol is True


def test_an_invitation_expires_and_a_resent_one_replaces_it(people):
    service = people
    service.invitations.invite("Jo Bloggs", "jo@example.org", ["Board"], None, ADMIN, BASE)
    first = _link(_mails(service, "invitation")[0][1], "invitation")
    clock.advance(days=7, seconds=1)
    assert service.invitations.link(first).state == "expired"
    assert service.people.person("jo")["invitation"]["state"] == "expired"
    with pytest.raises(Conflict, match="expired"):
        service.invitations.accept(first, GOOD, "10.0.0.1")
    service.invitations.resend("jo", ADMIN, BASE)
    second = _link(_mails(service, "invitation")[1][1], "invitation")
    assert service.invitations.link(first).state == "revoked"
    assert service.invitations.link(second).state == "open"
    service.invitations.revoke("jo", ADMIN)
    assert service.invitations.link(second).state == "revoked"
    with pytest.raises(Conflict, match="revoked"):
        service.invitations.accept(second, GOOD, "10.0.0.1")
    assert service.people.person("jo")["active"] is False
    assert [d["username"] for _, d in _audit(service, "invitation_resent")] == ["jo"]
    assert [d["withdrawn"] for _, d in _audit(service, "invitation_revoked")] == [[2]]


def test_refused_invitations_change_nothing(people):
    service = people
    before = _snapshot(service)
    with pytest.raises(Invalid) as refused:
        service.invitations.invite("", "not an address", [], None, ADMIN, BASE)
    assert {p["path"] for p in refused.value.details} == {"name", "email", "roles"}  # every problem at once
    with pytest.raises(Invalid):
        service.invitations.invite("Bina Again", "BINA@example.org", ["Board"], None, ADMIN, BASE)  # taken
    with pytest.raises(Invalid):
        service.invitations.invite("Jo", "jo@example.org", ["No such role"], None, ADMIN, BASE)
    with pytest.raises(Invalid):
        service.invitations.invite("Jo", "jo@example.org", [], "Agency: Nowhere", ADMIN, BASE)
    with pytest.raises(Forbidden):
        service.invitations.invite(
            "Jo", "jo@example.org", ["Board"], None, Actor("mo", frozenset({"manager"})), BASE
        )
    with pytest.raises(Conflict):  # no address for the link
        service.invitations.invite("Jo", "jo@example.org", ["Board"], None, ADMIN, None)
    assert _snapshot(service) == before


def test_disabling_someone_invited_withdraws_their_link(people):
    service = people
    service.invitations.invite("Jo Bloggs", "jo@example.org", ["Board"], None, ADMIN, BASE)
    token = _link(_mails(service, "invitation")[0][1], "invitation")
    service.users.set_active("jo", False, actor="ada")
    assert service.invitations.link(token).state == "revoked"


# --- password resets -----------------------------------------------------------------------------


def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(people):
    service = people
    first_session = service.sign_in.with_password("bina", "a long enough passphrase", "10.0.0.2").token
    service.password_resets.ask("BINA@example.org", "10.0.0.2", BASE)
    [(to, body)] = _mails(service, "password_reset")
    assert to == "bina@example.org"
    older = _link(body, "password-reset")
    service.password_resets.ask("bina@example.org", "10.0.0.2", BASE)
    newer = _link(_mails(service, "password_reset")[1][1], "password-reset")
    assert service.password_resets.link(older).state == "used"  # a newer link spends the older
    assert older not in _mails(service, "password_reset")[0][1]
    with pytest.raises(Conflict):
        service.password_resets.use(older, GOOD, "10.0.0.2")

    before = _snapshot(service)
    with pytest.raises(Invalid, match="user name"):
        service.password_resets.use(newer, "bina's own passphrase", "10.0.0.2")
    assert _snapshot(service) == before

    assert service.password_resets.use(newer, GOOD, "10.0.0.2") == "bina"
    assert service.sessions.resume(first_session).actor is None  # signed out everywhere
    assert service.users.authenticate("bina", GOOD) is not None
    assert service.users.authenticate("bina", "a long enough passphrase") is None
    assert service.password_resets.link(newer).state == "used"
    with pytest.raises(Conflict, match="used"):
        service.password_resets.use(newer, "yet another passphrase", "10.0.0.2")
    [(who, detail)] = _audit(service, "password_reset")
    assert who == "bina" and detail["sessions_ended"] == 1


def test_asking_for_a_reset_says_nothing_about_who_has_an_account(people):
    service = people
    service.users.set_active("bina", False, actor="ada")
    for address in ("nobody@example.org", "bina@example.org", "not an address"):
        assert service.password_resets.ask(address, "10.0.0.3", BASE) is None
    assert _mails(service, "password_reset") == []  # neither an unknown address nor a disabled account
    assert [d["known"] for _, d in _audit(service, "password_reset_asked")] == [False, False, False]


def test_a_reset_link_expires(people):
    service = people
    service.password_resets.ask("bina@example.org", "10.0.0.4", BASE)
    token = _link(_mails(service, "password_reset")[0][1], "password-reset")
    clock.advance(minutes=60, seconds=1)
    assert service.password_resets.link(token).state == "expired"
    with pytest.raises(Conflict, match="expired"):
        service.password_resets.use(token, GOOD, "10.0.0.4")
    assert service.users.authenticate("bina", "a long enough passphrase") is not None


def test_asking_is_limited_per_address_and_per_client(people):
    service = people
    for _ in range(5):
        service.password_resets.ask("bina@example.org", "10.0.0.5", BASE)
    assert len(_mails(service, "password_reset")) == 3  # three an address in 15 minutes
    for n in range(12):
        service.password_resets.ask(f"someone{n}@example.org", "10.0.0.6", BASE)
    service.password_resets.ask("ada@example.org", "10.0.0.6", BASE)  # the client has used up its ten
    assert [to for to, _ in _mails(service, "password_reset")] == ["bina@example.org"] * 3
    clock.advance(minutes=16)
    service.password_resets.ask("ada@example.org", "10.0.0.6", BASE)
    assert _mails(service, "password_reset")[-1][0] == "ada@example.org"


# --- the list, roles, sessions, tokens ------------------------------------------------------------


def test_the_people_list_is_searched_filtered_and_read_a_page_at_a_time(people):
    service = people
    for n in range(60):
        service.users.add(f"p{n:02d}", ["Board"] if n % 2 else ["Agency: Police"], email=f"p{n}@example.org")
    service.sign_in.with_password("bina", "a long enough passphrase", "10.0.0.7")
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(service.db.engine, "before_cursor_execute", listen)
    try:
        first = service.people.find(Filters(), page=1, size=25)
    finally:
        event.remove(service.db.engine, "before_cursor_execute", listen)
    assert first["total"] == 62 and first["pages"] == 3 and len(first["people"]) == 25
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3
    assert any("LIMIT" in s.upper() for s in statements)
    last = service.people.find(Filters(), page=3, size=25)
    assert len(last["people"]) == 12
    assert [p["username"] for p in service.people.find(Filters(text="BINA@EXAMPLE"))["people"]] == ["bina"]
    assert service.people.find(Filters(text="%"))["total"] == 0  # a wildcard is a character, not a pattern
    assert service.people.find(Filters(agency="Agency: Police"))["total"] == 30
    assert service.people.find(Filters(role="Board"))["total"] == 30
    never = service.people.find(Filters(never_signed_in=True), size=100)["people"]
    assert "bina" not in [p["username"] for p in never] and len(never) == 61
    service.users.set_active("p01", False, actor="ada")
    assert [p["username"] for p in service.people.find(Filters(disabled=True))["people"]] == ["p01"]
    assert service.people.find(Filters(mfa="on"))["total"] == 0


def test_roles_and_agency_are_changed_with_before_and_after_audited(people):
    service = people
    result = service.people.set_roles("bina", ["Board", "manager"], "Agency: Police", ADMIN)
    assert result == {"changed": True, "roles": ["Agency: Police", "Board", "manager"]}
    assert service.users.actor("bina").roles == {"Agency: Police", "Board", "manager"}
    [(who, detail)] = _audit(service, "roles_changed")
    assert who == "ada" and detail["before"] == ["Business Unit"]
    assert detail["after"] == ["Agency: Police", "Board", "manager"]
    before = _snapshot(service)
    for roles, agency in ((["No such role"], None), ([], None), (["Board"], "Agency: Nowhere")):
        with pytest.raises(Invalid):
            service.people.set_roles("bina", roles, agency, ADMIN)
    with pytest.raises(Invalid, match="your own administrator role"):
        service.people.set_roles("ada", ["manager"], None, ADMIN)
    with pytest.raises(Forbidden):
        service.people.set_roles("bina", ["Board"], None, Actor("mo", frozenset({"manager"})))
    assert _snapshot(service) == before
    assert service.users.actor("bina").roles == {"Agency: Police", "Board", "manager"}


def test_an_administrator_signs_someone_out_everywhere(people):
    service = people
    tokens = [
        service.sign_in.with_password("bina", "a long enough passphrase", "10.0.0.8").token for _ in "ab"
    ]
    assert service.people.sign_out_everywhere("bina", ADMIN) == 2
    assert all(service.sessions.resume(t).actor is None for t in tokens)
    assert _audit(service, "signed_out_everywhere") == [("ada", {"username": "bina", "sessions_ended": 2})]


def test_api_tokens_are_named_listed_and_withdrawn_one_at_a_time(people):
    service = people
    export = service.users.create_token("bina", actor="ada", name="Nightly export")
    other = service.users.create_token("bina", actor="ada", name="Dashboard")
    listed = service.users.tokens("bina")
    assert [t["name"] for t in listed] == ["Dashboard", "Nightly export"]
    assert all(export not in str(t) for t in listed)
    export_id = next(t["id"] for t in listed if t["name"] == "Nightly export")
    service.users.revoke_token("bina", export_id, actor="ada")
    with pytest.raises(Exception):  # noqa: B017 - refused: the token is withdrawn
        service.users.actor_for_token(export)
    assert service.users.actor_for_token(other).username == "bina"
    assert _audit(service, "token_revoked") == [
        ("ada", {"username": "bina", "token_id": export_id, "name": "Nightly export"})
    ]


def test_every_password_that_is_set_follows_the_policy(people):
    service = people
    before = _snapshot(service)
    for weak in ("eleven char", "qwerty123456", "1Q2W3E4R5T6Y", "carol-is-my-name"):
        with pytest.raises(Invalid):
            service.users.add("carol", ["Board"], password=weak)
        with pytest.raises(Invalid):
            service.users.set_password("bina", weak.replace("carol", "bina"))
    assert _snapshot(service) == before
    service.users.set_password("bina", "correct horse battery staple", actor="ada")
    assert service.users.authenticate("bina", "correct horse battery staple") is not None


def test_whoever_reads_the_outbox_never_sees_a_one_time_link(people):
    service = people
    service.invitations.invite("Jo Bloggs", "jo@example.org", ["Board"], None, ADMIN, BASE)
    service.password_resets.ask("bina@example.org", "10.0.0.1", BASE)
    manager = Actor("mo", frozenset({"manager"}))
    for template, kind in (("invitation", "invitation"), ("password_reset", "password-reset")):
        with service.db.reading() as session:
            [message_id] = session.scalars(select(OutboxMessage.id).where(OutboxMessage.template == template))
        for reader in (manager, ADMIN):
            shown = service.outbox.message(reader, message_id)
            assert f"/{kind}/" not in shown["body"] and "Not shown" in shown["body"], (template, reader)
