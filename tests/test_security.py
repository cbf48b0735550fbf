"""Login throttling and the security headers that every page carries."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD

LOGIN = "/accounts/login/"


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True


def log_in(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_failed_logins_lock_that_user_from_that_address(client, alice, axes_on):
    for _ in range(4):
        assert log_in(client, "alice", "wrong").status_code == 200
    assert log_in(client, "alice", "wrong").status_code == 429
    locked = log_in(client, "alice", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_user_and_address_so_others_still_log_in(client, alice, bob, axes_on):
    for _ in range(5):
        log_in(client, "alice", "wrong")
    assert log_in(client, "bob", PASSWORD).status_code == 302
    client.logout()
    assert log_in(client, "alice", PASSWORD, address="10.0.0.2").status_code == 302


def test_the_lock_ends_after_the_cool_off(client, alice, axes_on):
    for _ in range(5):
        log_in(client, "alice", "wrong")
    assert log_in(client, "alice", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert log_in(client, "alice", PASSWORD).status_code == 302


def test_a_forged_forwarded_for_header_does_not_dodge_the_lock(client, alice, axes_on):
    for n in range(5):
        client.post(
            LOGIN,
            {"username": "alice", "password": "wrong"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    assert log_in(client, "alice", PASSWORD).status_code == 429


def test_behind_a_proxy_the_forwarded_address_is_the_clients(client, alice, axes_on, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    for _ in range(5):
        client.post(
            LOGIN,
            {"username": "alice", "password": "wrong"},
            REMOTE_ADDR="10.9.9.9",
            HTTP_X_FORWARDED_FOR="203.0.113.7, 10.9.9.9",
        )
    assert AccessAttempt.objects.get().ip_address == "203.0.113.7"


def test_every_page_sends_the_security_headers(client, dave):
    client.force_login(dave)
    for url in [reverse("home"), reverse("registry:zone_list"), LOGIN]:
        response = client.get(url)
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_passwords_are_checked_by_djangos_validators():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ["password", "12345678", "short"]:
        with pytest.raises(ValidationError):
            validate_password(weak)


def test_tries_during_the_lock_do_not_extend_it(client, alice, axes_on):
    for _ in range(5):
        log_in(client, "alice", "wrong")
    locked_at = AccessAttempt.objects.get().attempt_time
    for _ in range(3):
        assert log_in(client, "alice", "wrong").status_code == 429
    assert log_in(client, "alice", PASSWORD).status_code == 429
    assert AccessAttempt.objects.get().attempt_time == locked_at

    AccessAttempt.objects.update(attempt_time=locked_at - timedelta(minutes=15, seconds=1))
    assert log_in(client, "alice", PASSWORD).status_code == 302


def test_the_lock_page_says_when_the_lock_ends(client, alice, axes_on, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)
    for _ in range(5):
        log_in(client, "alice", "wrong")
    locked_at = AccessAttempt.objects.get().attempt_time

    page = log_in(client, "alice", "wrong").content.decode()

    unlocks_at = timezone.localtime(locked_at + timedelta(minutes=30)).strftime("%H:%M")
    assert f"You may try again from {unlocks_at}" in page
    assert "30 minutes" in page
    assert "quarter of an hour" not in page
