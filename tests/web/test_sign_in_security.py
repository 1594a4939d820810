"""Signing in and out in a real browser: a manager sets up an authenticator at their first sign-in (reading
the secret from the page, as a phone would scan it), signs in with a code, with a recovery code that then
works no more, and anyone may turn multi-factor sign-in on; signing out ends the session on the server."""

from __future__ import annotations

import pyotp

from engine import clock
from tests.web.conftest import MFA_RECOVERY_CODES, PASSWORD, axe_violations, sign_in


def password_step(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/sign-in")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button:has-text('Sign in')")


def test_a_manager_sets_up_an_authenticator_at_first_sign_in_then_signs_in_with_a_code(page, service):
    service.users.add("newly", ["manager"], password=PASSWORD)
    password_step(page, "newly")
    page.wait_for_url("**/account/multi-factor/set-up**")
    page.goto("/dashboard")  # no page before the authenticator is set up
    page.wait_for_url("**/account/multi-factor/set-up**")
    assert page.locator("h1").inner_text() == "Set up multi-factor sign-in"
    qr = page.locator("img.rf-qr-code")
    assert qr.get_attribute("alt") and qr.evaluate("img => img.complete && img.naturalWidth > 100")
    assert axe_violations(page) == []
    secret = page.locator("#secret").inner_text().replace(" ", "")  # typed in by hand, as the page offers

    page.fill("#code", pyotp.TOTP(secret).at(clock.now().timestamp() + 300))
    page.click("button:has-text('Continue')")
    assert "Enter the 6-digit code" in page.locator(".govuk-error-summary").inner_text()
    assert axe_violations(page) == []
    page.fill("#code", pyotp.TOTP(secret).at(clock.now()))
    page.click("button:has-text('Continue')")
    page.wait_for_selector(".rf-recovery-code")  # the page after it: the one before has an h1 too
    assert page.locator("h1").inner_text() == "Save your recovery codes"
    codes = page.locator(".rf-recovery-code").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    assert axe_violations(page) == []
    page.click("a:has-text('Continue')")
    page.wait_for_url("**/dashboard")
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/sign-in")

    clock.advance(seconds=30)  # the next code on the phone
    password_step(page, "newly")
    page.wait_for_url("**/sign-in/code")
    page.fill("#code", "123456")
    page.click("button:has-text('Continue')")
    assert "The code is not right" in page.locator(".govuk-error-summary").inner_text()
    assert axe_violations(page) == []
    page.fill("#code", pyotp.TOTP(secret).at(clock.now()))
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/")
    assert page.locator("h1").inner_text() == "Your tasks"
    assert [
        e
        for e in page.console_errors
        if not e.startswith("Failed to load resource: the server responded with a status of")
    ] == []


def test_a_recovery_code_signs_in_once(page, service):
    code = MFA_RECOVERY_CODES["owner"][4]
    password_step(page, "owner")
    page.wait_for_url("**/sign-in/code")
    page.fill("#code", code)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/")
    assert "9 recovery codes left" in page.locator(".govuk-notification-banner").inner_text()
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/sign-in")
    password_step(page, "owner")
    page.wait_for_url("**/sign-in/code")
    page.fill("#code", code)
    page.click("button:has-text('Continue')")
    assert "The code is not right" in page.locator(".govuk-error-summary").inner_text()
    assert service.mfa.status("owner")["recovery_codes_left"] == 9


def test_anyone_may_turn_on_multi_factor_sign_in(page, service):
    sign_in(page, "police")
    page.click(".govuk-footer a:has-text('Multi-factor sign-in')")
    assert "not set up" in page.locator("main").inner_text()
    page.click("a:has-text('Set up multi-factor sign-in')")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.fill("#code", pyotp.TOTP(secret).at(clock.now()))
    page.click("button:has-text('Continue')")
    page.wait_for_selector(".rf-recovery-code")  # reading them does not wait for the page that has them
    assert len(page.locator(".rf-recovery-code").all_inner_texts()) == 10
    page.goto("/account/multi-factor")
    assert "10 recovery codes left" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    assert service.mfa.status("police")["enrolled"] is True


def test_signing_out_ends_the_session_on_the_server(page, browser, live_server):
    sign_in(page, "manager")
    copied = page.context.cookies()
    assert any(c["name"] == "reviewflow_session" for c in copied)
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/sign-in")
    elsewhere = browser.new_context(base_url=live_server)
    elsewhere.add_cookies(copied)  # the cookie as it was before signing out
    replay = elsewhere.new_page()
    replay.goto("/cases")
    assert replay.url.startswith(f"{live_server}/sign-in")
    assert replay.locator("h1").inner_text() == "Sign in"
    elsewhere.close()
