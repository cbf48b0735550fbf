"""E-mail goes to the console by default and through SMTP when the environment names a server."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = (
    "import zonetracker.settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, "
    "s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.DEFAULT_FROM_EMAIL, sep='|')"
)


def email_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "EMAIL_", "DEFAULT_FROM"))
    }
    clean.update(DJANGO_DEBUG="1", **env)
    return subprocess.run(
        [sys.executable, "-c", CODE], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_without_a_mail_server_e_mails_are_written_to_the_console():
    result = email_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("|")[0] == "django.core.mail.backends.console.EmailBackend"


def test_the_smtp_server_and_its_login_come_from_the_environment():
    result = email_settings(
        EMAIL_HOST="smtp.example.org",
        EMAIL_PORT="587",
        EMAIL_HOST_USER="zonetracker",
        EMAIL_HOST_PASSWORD="s3cret",
        EMAIL_USE_TLS="yes",
        DEFAULT_FROM_EMAIL="zonetracker <noreply@example.org>",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.org",
        "587",
        "zonetracker",
        "s3cret",
        "True",
        "zonetracker <noreply@example.org>",
    ]


def test_a_bad_port_or_tls_flag_is_a_clear_startup_error():
    assert "EMAIL_PORT must be a whole number" in email_settings(EMAIL_PORT="smtp").stderr
    assert "EMAIL_USE_TLS must be one of" in email_settings(EMAIL_USE_TLS="maybe").stderr
