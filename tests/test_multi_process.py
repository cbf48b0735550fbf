"""Past one machine: two gunicorn processes on one database serve as one application.

Each process has its own memory and its own local disk as far as the application knows; what
they share is the database. An Administrator signs in through one, previews an import there,
and confirms it through the other with the same session: the session and the upload waiting
for confirmation must both live in the database (DESIGN §6, README "Deploying").
"""

from __future__ import annotations

import fcntl
import hashlib
import http.cookiejar
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import IO

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.urls import reverse

from registry.importing import provinces_import
from registry.models import Province, Zone
from tests.factories import PASSWORD, make_user, make_zone
from tests.registry.batch_files import csv_file, two_new_zones
from zonetracker.permissions import ADMINISTRATOR

PROJECT = Path(settings.BASE_DIR)
# Bounds of everything the test waits for: a process to start, one request to be answered.
START_TIMEOUT = 60
REQUEST_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_environment() -> dict[str, str]:
    """Production settings (zonetracker.settings, debug off) on the test's own database."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "DATABASE_URL", "SQLITE_PATH"}
    }
    env.update(
        DJANGO_SECRET_KEY=f"multi-process-test-{uuid.uuid4().hex}",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SESSION_COOKIE_SECURE="0",
        DJANGO_CSRF_COOKIE_SECURE="0",
        DJANGO_SECURE_HSTS_SECONDS="0",
    )
    database = connection.settings_dict
    if database["ENGINE"] == "django.db.backends.sqlite3":
        env["SQLITE_PATH"] = str(database["NAME"])
    else:
        credentials = urllib.parse.quote(database["USER"] or "", safe="")
        if database["PASSWORD"]:
            credentials += ":" + urllib.parse.quote(database["PASSWORD"], safe="")
        host = database["HOST"] or "127.0.0.1"
        port = f":{database['PORT']}" if database["PORT"] else ""
        env["DATABASE_URL"] = f"postgres://{credentials}@{host}{port}/{database['NAME']}"
    return env


@contextmanager
def gunicorn(env: dict[str, str], port: int, log: IO[bytes]) -> Iterator[str]:
    """A gunicorn process of zonetracker.wsgi on 127.0.0.1:``port``, stopped on the way out."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "zonetracker.wsgi",
            f"--bind=127.0.0.1:{port}",
            "--workers=1",
            "--timeout=60",
        ],
        cwd=PROJECT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"gunicorn on port {port} stopped:\n{_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn on port {port} did not answer:\n{_tail(log)}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


def _tail(log: IO[bytes]) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode(errors="replace")[-4000:]


@contextmanager
def static_files_held(timeout: float = 180) -> Iterator[None]:
    """This project's staticfiles/ for this test alone, while it collects and serves them.

    Two runs of the suite at once (SQLite and PostgreSQL, say) would otherwise rewrite the
    manifest while the other's servers read it.
    """
    project = hashlib.sha1(str(PROJECT).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"zonetracker-static-{project}.lock"
    with path.open("w") as lock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail("another run kept staticfiles/ for too long")
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class Browser:
    """Cookies (the session, the CSRF token) kept across requests, whichever port they go to."""

    class _NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    def __init__(self) -> None:
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), self._NoRedirects
        )

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)

    def request(
        self, url: str, *, data: bytes | None = None, content_type: str = ""
    ) -> tuple[int, str, dict[str, str]]:
        headers = {"Content-Type": content_type} if content_type else {}
        request = urllib.request.Request(url, data=data, headers=headers)
        try:
            with self._opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:  # 3xx (not followed) and 4xx/5xx alike
            return error.code, error.read().decode(errors="replace"), dict(error.headers)

    def get(self, url: str) -> tuple[int, str, dict[str, str]]:
        return self.request(url)

    def post(self, url: str, fields: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        body = urllib.parse.urlencode(fields).encode()
        return self.request(url, data=body, content_type="application/x-www-form-urlencoded")

    def post_file(
        self, url: str, fields: dict[str, str], name: str, filename: str, content: bytes
    ) -> tuple[int, str, dict[str, str]]:
        boundary = f"----zonetracker{uuid.uuid4().hex}"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            f"{value}\r\n".encode()
            for key, value in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(
            url, data=body, content_type=f"multipart/form-data; boundary={boundary}"
        )


class FormFields(HTMLParser):
    """The input fields of the form whose action ends with ``action`` (or of every form)."""

    def __init__(self, action: str = "") -> None:
        super().__init__()
        self.action = action
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self._inside = (attributes.get("action") or "").endswith(self.action)
        elif tag == "input" and self._inside and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def form_fields(html: str, action: str = "") -> dict[str, str]:
    parser = FormFields(action)
    parser.feed(html)
    return parser.fields


def sign_in(browser: Browser, base: str, username: str) -> None:
    login = f"{base}{reverse('login')}"
    status, html, _headers = browser.get(login)
    assert status == 200, html
    token = form_fields(html)["csrfmiddlewaretoken"]
    status, html, _headers = browser.post(
        login, {"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD}
    )
    assert status == 302, f"signing in answered {status}:\n{html[-2000:]}"
    assert browser.cookie(settings.SESSION_COOKIE_NAME)


def test_two_processes_share_the_data_the_session_and_an_import_waiting_for_confirmation(
    transactional_db,
):
    provinces_import(raw=(PROJECT / "fixtures" / "provinces.csv").read_bytes())
    alice = make_user("alice", ADMINISTRATOR)
    # The production hasher: the app processes do not know the tests' fast MD5 one.
    alice.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    alice.save(update_fields=["password"])
    make_zone(name_zh="共享市", name_en="Sharedcity", province=Province.objects.get(code="33"))
    env = app_environment()

    with ExitStack() as stack:
        stack.enter_context(static_files_held())
        # What a build does before the app starts: production settings serve hashed files.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=PROJECT,
            env=env,
            check=True,
            timeout=120,
            capture_output=True,
        )
        log = stack.enter_context(tempfile.TemporaryFile())
        first = stack.enter_context(gunicorn(env, free_port(), log))
        second = stack.enter_context(gunicorn(env, free_port(), log))
        browser = Browser()

        # Signed in through the first process, the session is good on the second.
        sign_in(browser, first, "alice")
        for base in (first, second):
            status, html, _headers = browser.get(f"{base}{reverse('registry:zone_list')}")
            assert status == 200, _tail(log)
            assert "Sharedcity" in html

        # The preview on the first process stores the upload in the database ...
        import_url = reverse("admin:registry_zone_import")
        status, html, _headers = browser.get(f"{first}{import_url}")
        assert status == 200, _tail(log)
        token = form_fields(html)["csrfmiddlewaretoken"]
        status, html, _headers = browser.post_file(
            f"{first}{import_url}",
            {"csrfmiddlewaretoken": token, "format": "0"},
            "import_file",
            "batch8.csv",
            csv_file(two_new_zones()),
        )
        assert status == 200, _tail(log)
        assert "2 new, 0 updated, 0 unchanged" in html
        process_url = reverse("admin:registry_zone_process_import")
        confirm = form_fields(html, process_url)
        assert confirm.get("import_file_name"), html[-3000:]
        assert not Zone.objects.filter(name_zh="测试一市").exists()

        # ... where the second process finds it when the same session confirms it there.
        status, html, headers = browser.post(f"{second}{process_url}", confirm)
        assert status == 302, f"confirming answered {status}:\n{html[-2000:]}\n{_tail(log)}"
        assert headers["Location"].endswith(reverse("admin:registry_zone_changelist"))

        assert set(Zone.objects.values_list("name_zh", flat=True)) == {
            "共享市",
            "测试一市",
            "测试二市",
        }
        assert Zone.history.filter(history_type="+", name_zh="测试一市").get().history_user == alice
        for base in (first, second):
            status, html, _headers = browser.get(f"{base}{reverse('registry:zone_list')}?q=Test")
            assert status == 200
            assert "Testone" in html and "Testtwo" in html
