"""The rankings page served by gunicorn on PostgreSQL, under load, against a trivial view.

Creates its own database (``zt_bench`` unless told otherwise), migrates it, builds a register
of ``--size`` zones, starts gunicorn with two workers on a free port of 127.0.0.1, loads
``/bench/ping/`` and then the rankings page for a fixed time at a fixed concurrency, stops
gunicorn and drops the database, whatever happened. Prints one line of JSON; when PostgreSQL
cannot be reached it prints why and measures nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

import dj_database_url
import psycopg

from bench.load import load_run

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/zt_bench"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _maintenance(database_url: str) -> psycopg.Connection:
    """A connection to the server's ``postgres`` database, to create and drop ours."""
    config = dj_database_url.parse(database_url)
    return psycopg.connect(
        dbname="postgres",
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        autocommit=True,
        connect_timeout=5,
    )


def database_name(database_url: str) -> str:
    name = dj_database_url.parse(database_url)["NAME"]
    if not name or name == "test" or not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing to create and drop the database {name!r}")
    return name


def database_create(database_url: str) -> None:
    name = database_name(database_url)
    with _maintenance(database_url) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.execute(f'CREATE DATABASE "{name}"')


def database_drop(database_url: str) -> None:
    name = database_name(database_url)
    with _maintenance(database_url) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _environment(database_url: str) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "DATABASE_URL": database_url}
    env.pop("SQLITE_PATH", None)
    return env


def _run(command: list[str], env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def _status(url: str, cookie: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    request = urllib.request.Request(url, headers={"Cookie": cookie})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def gunicorn_start(
    env: dict[str, str], port: int, workers: int, log: IO[bytes]
) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "zonetracker.wsgi",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--log-level=warning",
        "--timeout=60",
    ]
    # A session of its own, so that stopping it reaches its workers too.
    return subprocess.Popen(
        command,
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        # A file, not a pipe: a pipe nobody reads would stop gunicorn once it is full.
        stderr=log,
        start_new_session=True,
    )


def gunicorn_stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def wait_until_up(base: str, server: subprocess.Popen, log: IO[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise SystemExit(f"gunicorn stopped: {log.read().decode()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/bench/ping/", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer in time")


def _load(url: str, cookie: str, args: argparse.Namespace) -> dict:
    status = _status(url, cookie)
    if status != 200:
        raise SystemExit(f"{url} answered {status} through gunicorn, not 200")
    # A short warm-up first: workers import lazily and open their database connections.
    load_run(url, cookie=cookie, seconds=2, connections=args.connections)
    result = load_run(url, cookie=cookie, seconds=args.seconds, connections=args.connections)
    return {
        "tool": result.tool,
        "requests": result.requests,
        "failures": result.failures,
        "per_second": result.per_second,
    }


def measure(args: argparse.Namespace) -> dict:
    env = _environment(args.database_url)
    _run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env, timeout=300)
    built = json.loads(
        _run(
            [sys.executable, "-m", "bench.sweep", "--size", str(args.size), "--build-only"],
            env,
            timeout=600,
        ).splitlines()[-1]
    )
    cookie = f"sessionid={built['cookie']}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = gunicorn_start(env, port, args.workers, log)
        try:
            wait_until_up(base, server, log)
            results = {}
            targets = {"ping": "/bench/ping/"}
            if "/cycles/<year>/rankings/" in built["urls"]:
                targets["rankings"] = built["urls"]["/cycles/<year>/rankings/"]
            for label, path in targets.items():
                results[label] = _load(base + path, cookie, args)
        finally:
            gunicorn_stop(server)
    return {
        "size": args.size,
        "workers": args.workers,
        "connections": args.connections,
        "seconds": args.seconds,
        "loads": results,
        "notes": built["notes"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--size", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args(argv)
    try:
        database_create(args.database_url)
    except Exception as error:  # psycopg's OperationalError, a missing server, refused login
        reason = " ".join(str(error).split())
        print(json.dumps({"skipped": f"PostgreSQL is not reachable ({reason})"}))
        return
    try:
        report = measure(args)
    finally:
        database_drop(args.database_url)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
