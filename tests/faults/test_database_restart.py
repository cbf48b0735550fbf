"""PostgreSQL restarted under a page load and under an import: a 503 page, then normal again.

The restarts hit a cluster of this test's own (``faults``, port 5434, created if missing, as
root, beside whatever else the machine runs) and never the one the suite uses. Without root
or PostgreSQL's cluster tools the test is skipped, except in CI, where it fails instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from tests.faults.harness import Database, prepare, run
from tests.faults.test_killed import DRIVE, batch_file, results_file
from tests.test_multi_process import Browser, free_port, gunicorn, sign_in

pytestmark = pytest.mark.faults

CLUSTER = "faults"
PORT = 5434
URL = f"postgres://postgres@127.0.0.1:{PORT}/zt_faults"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must restart a PostgreSQL cluster of its own: {reason}")
    pytest.skip(reason)


def _ctl(version: str, action: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, CLUSTER, action, "--", "-m", "fast"]
        if action in {"stop", "restart"}
        else ["pg_ctlcluster", "--skip-systemctl-redirect", version, CLUSTER, action],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _ready() -> bool:
    return (
        subprocess.run(
            ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(PORT)], check=False, timeout=10
        ).returncode
        == 0
    )


def _wait_ready(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not _ready():
        assert time.monotonic() < deadline, "the cluster did not come back"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """The version of the ``faults`` cluster, created and started when it is not."""
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster"):
        _unavailable("restarting a PostgreSQL cluster needs root and pg_ctlcluster")
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    rows = [line.split() for line in listing if line.strip()]
    ours = [row for row in rows if row[1] == CLUSTER]
    if ours:
        version = ours[0][0]
    else:
        if not rows:
            _unavailable("no PostgreSQL cluster to take the version from")
        version = rows[0][0]
        subprocess.run(
            [
                "pg_createcluster",
                version,
                CLUSTER,
                "--port",
                str(PORT),
                "--",
                "--auth-local=trust",
                "--auth-host=trust",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    started_here = not _ready()
    if started_here:
        _ctl(version, "start")
        _wait_ready()
    yield version
    # Left as found: stopped again when this test started it.
    if started_here:
        _ctl(version, "stop")
    elif not _ready():
        _ctl(version, "start")


@pytest.fixture(scope="module")
def served(cluster: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """zt_faults on the cluster: migrated, 200 zones in two cycles, faults-admin."""
    database = Database(vendor="postgresql", url=URL, folder=tmp_path_factory.mktemp("restart"))
    database.create_empty("base")
    prepare(database, "base", "base", str(database.folder), "200")
    yield database
    for label in ("base", "start", "run"):
        database.drop(label)


def test_a_database_error_is_a_503_page_without_a_traceback(
    client: Client, dave, monkeypatch: pytest.MonkeyPatch
):
    """In the suite's own process: whatever page meets a database that went away."""

    def gone(*args: object, **kwargs: object) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    client.force_login(dave)
    client.raise_request_exception = False
    monkeypatch.setattr("registry.views.render", gone)

    response = client.get(reverse("registry:zone_list"))

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "cannot reach its database" in page
    assert "Traceback" not in page and "OperationalError" not in page


def test_pages_during_a_restart_are_503_and_the_next_request_works(served: Database, cluster: str):
    served.copy("base", "run")
    env = served.environment("run")
    env.update(
        DJANGO_SESSION_COOKIE_SECURE="0",
        DJANGO_CSRF_COOKIE_SECURE="0",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
    )
    zones = reverse("registry:zone_list")
    with tempfile.TemporaryFile() as log, gunicorn(env, free_port(), log) as base:
        browser = Browser()
        sign_in(browser, base, "faults-admin")
        assert browser.get(f"{base}{zones}")[0] == 200

        # Down: every page is the 503 page.
        _ctl(cluster, "stop")
        try:
            status, page, headers = browser.get(f"{base}{zones}")
        finally:
            _ctl(cluster, "start")
            _wait_ready()
        assert status == 503, page[-2000:]
        assert "cannot reach its database" in page and "Traceback" not in page
        assert headers["Retry-After"] == "30"

        # Back: the first request works (the dead connection fails its health check).
        assert browser.get(f"{base}{zones}")[0] == 200

        # Restarted while pages are loading: 200 or 503, never a 500, then 200 again.
        statuses: list[int] = []
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                statuses.append(browser.get(f"{base}{zones}")[0])

        loader = threading.Thread(target=load)
        loader.start()
        time.sleep(0.5)
        _ctl(cluster, "restart")
        _wait_ready()
        stop.set()
        loader.join(60)
        assert set(statuses) <= {200, 503}, statuses
        assert browser.get(f"{base}{zones}")[0] == 200
        print(f"pages during the restart: {statuses}")


# The writing commands, each cut by a restart in the middle of its work (just before the
# query at RESTART_AT of those a normal run makes): (name, process line, prepared).
COMMANDS = [
    ("import_zones", lambda folder: [*DRIVE, "import_zones", str(folder / "zones.csv")], False),
    (
        "import_scores",
        lambda folder: [*DRIVE, "import_scores", "2023", str(folder / "scores.csv")],
        True,
    ),
    (
        "import_results",
        lambda folder: [*DRIVE, "import_results", "2021", str(folder / "results.csv")],
        False,
    ),
    ("compute_rankings", lambda folder: [*DRIVE, "compute_rankings", "2023"], False),
    ("publish_cycle", lambda folder: [*DRIVE, "publish_cycle", "2023"], True),
    ("import_scopes", lambda folder: [*DRIVE, "import_scopes", str(folder / "scopes.csv")], True),
]
RESTART_AT = 0.6


def one_line_error(output: str) -> str:
    """The command's error: one line, no traceback."""
    assert "Traceback" not in output, output[-3000:]
    errors = [line for line in output.splitlines() if line.startswith("CommandError: ")]
    assert len(errors) == 1, output[-3000:]
    return errors[0]


@pytest.mark.parametrize(
    ("name", "command", "prepared"), COMMANDS, ids=[row[0] for row in COMMANDS]
)
def test_a_command_cut_by_a_restart_says_so_in_one_line_writes_nothing_and_runs_again(
    served: Database, cluster: str, monkeypatch: pytest.MonkeyPatch, name, command, prepared
):
    folder = served.folder / name
    folder.mkdir()
    (folder / "zones.csv").write_bytes(batch_file(600))
    (folder / "results.csv").write_bytes(results_file(200))
    served.copy("base", "start")
    if prepared:
        prepare(served, "start", name, str(folder))
    served.copy("start", "run")
    before = served.fingerprint("run")
    monkeypatch.setenv("ZONETRACKER_FAULTS_QUERIES", "1")
    normal = run(served, "run", command(folder))
    assert normal.status == 0, normal.output
    after = served.fingerprint("run")
    assert after != before
    queries = int(normal.output.rsplit("QUERIES ", 1)[1].split()[0])

    served.copy("start", "run")
    at = max(2, int(queries * RESTART_AT))
    monkeypatch.setenv("ZONETRACKER_FAULTS_RESTART", f"{cluster} {CLUSTER} {at}")
    cut = run(served, "run", command(folder))
    monkeypatch.delenv("ZONETRACKER_FAULTS_RESTART")
    _wait_ready()

    assert cut.status == 1, cut.output[-3000:]
    error = one_line_error(cut.output)
    assert "The database could not be reached or went away" in error
    assert "Run the command again once the database is back." in error
    assert served.fingerprint("run") == before
    again = run(served, "run", command(folder))
    assert again.status == 0, again.output
    assert served.fingerprint("run") == after
    print(f"{name}: restarted before query {at} of {queries}: {error}")


def test_a_backup_while_the_database_is_down_says_so_in_one_line_and_leaves_no_file(
    served: Database, cluster: str
):
    served.copy("base", "run")
    output = served.folder / "backup-down.dump"
    _ctl(cluster, "stop")
    try:
        down = run(served, "run", [*DRIVE, "backup", "--output", str(output)])
    finally:
        _ctl(cluster, "start")
        _wait_ready()
    assert down.status == 1, down.output
    error = one_line_error(down.output)
    assert error.startswith("CommandError: pg_dump failed: ")
    assert not output.exists() and not list(served.folder.glob(".*.partial"))
    again = run(served, "run", [*DRIVE, "backup", "--output", str(output)])
    assert again.status == 0, again.output
    print(f"backup with the database down: {error}")
