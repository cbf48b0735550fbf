"""A bounded load on one URL of a server on this machine: requests per second.

``wrk`` when it is installed (it costs the machine little, so the server gets the cores);
otherwise a small Python client of threads, each sending one request at a time over a new
connection (gunicorn's sync workers close every connection). Either way the load has a fixed
concurrency, lasts a fixed time and stops by itself; only 127.0.0.1 is ever asked.
"""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LoadResult:
    tool: str
    requests: int
    failures: int  # anything but a 200, and connection errors
    seconds: float

    @property
    def per_second(self) -> float:
        return (self.requests - self.failures) / self.seconds if self.seconds else 0.0


def load_run(url: str, *, cookie: str, seconds: float, connections: int) -> LoadResult:
    host = urlsplit(url).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError(f"the bench loads servers on this machine only, not {host}")
    if shutil.which("wrk"):
        return _wrk(url, cookie=cookie, seconds=seconds, connections=connections)
    return _threads(url, cookie=cookie, seconds=seconds, connections=connections)


def _wrk(url: str, *, cookie: str, seconds: float, connections: int) -> LoadResult:
    command = [
        "wrk",
        f"--threads={min(2, connections)}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--header=Cookie: {cookie}",
        url,
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(m?s)", output)[1])
    elapsed = re.search(r"requests in ([\d.]+)(ms|s|m)", output)
    duration = float(elapsed[1]) * {"ms": 0.001, "s": 1.0, "m": 60.0}[elapsed[2]]
    failures = sum(
        int(n)
        for n in re.findall(
            r"(?:Non-2xx or 3xx responses|connect|read|write|timeout)[: ]+(\d+)", output
        )
    )
    return LoadResult("wrk", requests, failures, duration)


def _threads(url: str, *, cookie: str, seconds: float, connections: int) -> LoadResult:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + seconds
    counts = [[0, 0] for _ in range(connections)]

    def client(tally: list[int]) -> None:
        while time.monotonic() < deadline:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            try:
                connection.request("GET", path, headers={"Cookie": cookie})
                response = connection.getresponse()
                response.read()
                tally[1] += response.status != 200
            except OSError:
                tally[1] += 1
            finally:
                connection.close()
            tally[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(tally,)) for tally in counts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    elapsed = time.monotonic() - started
    return LoadResult("python", sum(t[0] for t in counts), sum(t[1] for t in counts), elapsed)
