"""Password reset and e-mail verification from end to end: users publishes the link, the
notifications consumer mails it to a real SMTP server, and the link's token, sent back
through the gateway, resets the password once (ending every session) or verifies the
address. An address with no account is answered alike: status, body and time."""

from __future__ import annotations

import re
import statistics
import time
import uuid

from harness import PASSWORD, bearer, register_and_sign_in, sign_in, wait_for

NEW_PASSWORD = "e2e-a-brand-new-passphrase"
#: Headers that differ between any two answers.
PER_ANSWER = {"date", "x-request-id"}


def link_in(system, address, subject, page):
    """The token of the link to the storefront's ``page`` in the mail to ``address``."""
    mail = wait_for(
        lambda: [m for m in system.smtp.mail if m.to == address and m.subject == subject],
        timeout=30,
    )[-1]
    # The link opens the stack's storefront (tools/stack.py sets the URLs to it).
    match = re.search(rf"{re.escape(system.url('storefront'))}/{page}\?token=(\S+)", mail.text)
    assert match, mail.text
    return match.group(1)


def post(system, path, body, **kwargs):
    return system.http.post(f"{system.gateway}{path}", json=body, timeout=15, **kwargs)


def me(system, access):
    response = system.http.get(
        f"{system.gateway}/api/users/me/", headers=bearer(access), timeout=10
    )
    return response.json()


def test_a_mailed_reset_link_sets_a_new_password_once_and_ends_every_session(system):
    username = f"reset{uuid.uuid4().hex[:8]}"
    address = f"{username}@example.com"
    old_session = register_and_sign_in(system, username)

    asked = post(system, "/api/auth/password-reset/", {"email": address})
    assert asked.status_code == 202, asked.text
    token = link_in(system, address, "Reset your Souk password", "password-reset/confirm/")

    confirmed = post(
        system, "/api/auth/password-reset/confirm/", {"token": token, "new_password": NEW_PASSWORD}
    )
    assert confirmed.status_code == 204, confirmed.text

    refreshed = post(system, "/api/auth/token/refresh/", {"refresh": old_session["refresh"]})
    assert refreshed.status_code == 401
    old_password = {"username": username, "password": PASSWORD}
    assert post(system, "/api/auth/token/", old_password).status_code == 401
    assert sign_in(system, username, NEW_PASSWORD)["access"]
    again = post(
        system, "/api/auth/password-reset/confirm/", {"token": token, "new_password": "x" * 20}
    )
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "validation_error"
    assert list(again.json()["error"]["details"]) == ["token"]
    time.sleep(1)  # a second mail would arrive meanwhile
    resets = [m for m in system.smtp.mail if m.to == address and m.subject.startswith("Reset")]
    assert len(resets) == 1


def test_the_sign_up_mail_verifies_the_address_and_a_new_address_gets_its_own_link(system):
    username = f"verify{uuid.uuid4().hex[:8]}"
    address = f"{username}@example.com"
    access = register_and_sign_in(system, username)["access"]
    token = link_in(system, address, f"Welcome to Souk, {username}", "verify-email/")
    assert me(system, access)["email_verified"] is False

    assert post(system, "/api/auth/verify-email/", {"token": token}).status_code == 204
    assert me(system, access)["email_verified"] is True
    assert post(system, "/api/auth/verify-email/", {"token": token}).status_code == 400

    new_address = f"{username}.new@example.com"
    changed = system.http.patch(
        f"{system.gateway}/api/users/me/",
        json={"email": new_address},
        headers=bearer(access),
        timeout=10,
    )
    assert changed.json()["email_verified"] is False
    new_token = link_in(
        system, new_address, "Confirm your e-mail address for Souk", "verify-email/"
    )
    assert post(system, "/api/auth/verify-email/", {"token": new_token}).status_code == 204
    assert me(system, access)["email_verified"] is True


def test_a_reset_for_an_address_with_no_account_is_answered_alike_in_status_body_and_time(system):
    username = f"timed{uuid.uuid4().hex[:8]}"
    register_and_sign_in(system, username)
    addresses = {"known": f"{username}@example.com", "unknown": f"no-{username}@example.com"}

    def ask(kind):
        started = time.perf_counter()
        response = post(system, "/api/auth/password-reset/", {"email": addresses[kind]})
        return response, time.perf_counter() - started

    known, _ = ask("known")
    unknown, _ = ask("unknown")
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert {k.lower() for k in known.headers} == {k.lower() for k in unknown.headers}
    assert {k: v for k, v in known.headers.items() if k.lower() not in PER_ANSWER} == {
        k: v for k, v in unknown.headers.items() if k.lower() not in PER_ANSWER
    }

    # A request for a known address goes on after its answer: the relay publishes the event
    # and notifications mails the link. Each request is timed on a quiet stack, after the
    # last one's mail has arrived: that work, run while the next request is timed, would
    # weigh on whichever kind comes next (the unknown one, in pairs of K K U U, often).
    # Interleaved, each kind first in turn, so that whatever else loads the machine weighs
    # on both alike; medians, so that a stall or two weighs on neither.
    def mailed() -> int:
        return sum(
            m.to == addresses["known"] and m.subject == "Reset your Souk password"
            for m in system.smtp.mail
        )

    wait_for(lambda: mailed() == 1, timeout=30, interval=0.01)
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for round_ in range(30):
        for kind in ("known", "unknown") if round_ % 2 else ("unknown", "known"):
            expected = mailed() + (kind == "known")
            response, seconds = ask(kind)
            assert response.status_code == 202
            times[kind].append(seconds)
            wait_for(lambda expected=expected: mailed() == expected, timeout=30, interval=0.01)
            time.sleep(0.02)  # the consumer's commit after the mail, the relay's mark
    known_median = statistics.median(times["known"])
    unknown_median = statistics.median(times["unknown"])
    print(
        f"password reset, median of 30: known {known_median * 1000:.1f} ms, "
        f"unknown {unknown_median * 1000:.1f} ms"
    )
    assert abs(known_median - unknown_median) <= max(
        0.005, 0.25 * min(known_median, unknown_median)
    )
