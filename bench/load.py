"""A fixed number of requests to one URL of a server on this machine: requests per second.

A small client of threads, each sending one request at a time over a new connection
(gunicorn's sync workers close every connection), until the fixed count is sent: so every
run costs the same work whatever the machine's speed, and a slow page cannot make the run
shorter. Only 127.0.0.1 is ever asked. The client shares the machine's cores with the server:
the cheapest pages are capped by it, which makes their ratios to the trivial view look better
than they are, never worse.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LoadResult:
    requests: int
    failures: int  # anything but a 200, and connection errors
    seconds: float

    @property
    def per_second(self) -> float:
        return (self.requests - self.failures) / self.seconds if self.seconds else 0.0


def load_run(url: str, *, cookie: str, requests: int, connections: int) -> LoadResult:
    """Send ``requests`` GETs of ``url`` over ``connections`` concurrent clients."""
    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError(f"the bench loads servers on this machine only, not {parts.hostname}")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    shares = [requests // connections + (n < requests % connections) for n in range(connections)]
    tallies = [[0, 0] for _ in shares]

    def client(count: int, tally: list[int]) -> None:
        for _ in range(count):
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
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
    threads = [
        threading.Thread(target=client, args=(count, tally))
        for count, tally in zip(shares, tallies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return LoadResult(sum(t[0] for t in tallies), sum(t[1] for t in tallies), elapsed)
