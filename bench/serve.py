"""The rankings pages served by gunicorn on PostgreSQL, under load, against a trivial view.

Creates a database of its own (the name of ``--database-url`` with this process's id added,
so that it never touches a database of anybody else's), migrates it, builds a register of
``--size`` zones, starts gunicorn with two workers on ``--port`` (a free port of 127.0.0.1
by default), sends a fixed number of requests to ``/bench/ping/``, to a published cycle's
rankings (served from the cache) and to an open cycle's provisional rankings (built for each
request), five runs each in turn, stops gunicorn and drops its database, whatever happened.
Prints one line of JSON; when PostgreSQL cannot be reached it prints why and measures nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import psycopg

from bench.load import LoadResult, load_run

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/zt_bench"
# Requests per run, and runs, of each URL under load.
REQUESTS = {"ping": 600, "published": 600, "provisional": 60}
RUNS = 5


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


def _loads(base: str, urls: dict[str, str], cookie: str, args: argparse.Namespace) -> dict:
    """Each URL loaded ``RUNS`` times in turn (so that a busy moment of the machine falls on
    all of them alike): the median of each URL's runs, and of its ratios to the trivial
    view's run just before."""
    for path in urls.values():
        status = _status(base + path, cookie)
        if status != 200:
            raise SystemExit(f"{path} answered {status} through gunicorn, not 200")
        # A warm-up: workers import lazily, open their connections, fill the cache.
        load_run(base + path, cookie=cookie, requests=20, connections=args.connections)
    runs: dict[str, list[LoadResult]] = {label: [] for label in urls}
    for _ in range(RUNS):
        for label, path in urls.items():
            runs[label].append(
                load_run(
                    base + path,
                    cookie=cookie,
                    requests=REQUESTS[label],
                    connections=args.connections,
                )
            )
    ping = runs["ping"]
    return {
        label: {
            "requests": sum(r.requests for r in results),
            "failures": sum(r.failures for r in results),
            "per_second": statistics.median(r.per_second for r in results),
            "ratio": statistics.median(
                r.per_second / p.per_second for r, p in zip(results, ping, strict=True)
            ),
        }
        for label, results in runs.items()
    }


def measure(args: argparse.Namespace, database_url: str) -> dict:
    env = _environment(database_url)
    _run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env, timeout=300)
    built = json.loads(
        _run(
            [sys.executable, "-m", "bench.sweep", "--size", str(args.size), "--build-only"],
            env,
            timeout=600,
        ).splitlines()[-1]
    )
    cookie = built["cookie"]
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = gunicorn_start(env, port, args.workers, log)
        try:
            wait_until_up(base, server, log)
            results = _loads(base, built["urls"], cookie, args)
        finally:
            gunicorn_stop(server)
    return {
        "size": args.size,
        "workers": args.workers,
        "connections": args.connections,
        "requests": REQUESTS,
        "runs": RUNS,
        "loads": results,
        "notes": built["notes"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--size", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one)")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", ""),
        help="serve with this Redis as the shared cache, as several hosts would (default: none,"
        " each worker's own memory)",
    )
    parser.add_argument(
        "--compute-size",
        type=int,
        default=10_000,
        help="also time rankings_compute on PostgreSQL for this many zones (0: not)",
    )
    args = parser.parse_args(argv)
    database_url = own_database_url(args.database_url)
    try:
        database_create(database_url)
    except Exception as error:  # psycopg's OperationalError, a missing server, refused login
        reason = " ".join(str(error).split())
        print(json.dumps({"skipped": f"PostgreSQL is not reachable ({reason})"}))
        return
    if args.redis_url:
        # Its own keys only (a prefix of this run's), deleted at the end.
        os.environ["REDIS_URL"] = args.redis_url
        os.environ["BENCH_CACHE_PREFIX"] = f"zonetracker-bench-{os.getpid()}"
    try:
        report = measure(args, database_url)
    finally:
        database_drop(database_url)
        if args.redis_url:
            redis_keys_drop(args.redis_url, os.environ["BENCH_CACHE_PREFIX"])
            os.environ.pop("REDIS_URL")
    report["database"] = database_name(database_url)
    report["cache"] = "Redis (shared)" if args.redis_url else "each worker's memory"
    if args.compute_size:
        report["compute"] = compute_on_postgresql(args.compute_size, f"{database_url}_compute")
    print(json.dumps(report))


def compute_on_postgresql(size: int, database_url: str) -> dict:
    """``rankings_compute`` of a ``size``-zone register on a database of its own."""
    database_create(database_url)
    try:
        env = _environment(database_url)
        _run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env, timeout=300)
        return json.loads(
            _run(
                [sys.executable, "-m", "bench.sweep", f"--size={size}", "--compute-only"],
                env,
                timeout=900,
            ).splitlines()[-1]
        )
    finally:
        database_drop(database_url)


def redis_keys_drop(redis_url: str, prefix: str) -> None:
    """Delete the keys this run wrote (those under ``prefix``), and no other."""
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


def own_database_url(database_url: str) -> str:
    """``database_url`` naming a database of this run's own: its name, then this process's
    id (``zt_bench`` → ``zt_bench_4242``), so that creating and dropping it touches nobody's."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/") or "zt_bench"
    return urlunsplit(parts._replace(path=f"/{name}_{os.getpid()}"))


if __name__ == "__main__":
    main()
