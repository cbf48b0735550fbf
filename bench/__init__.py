"""zonetracker's benchmark (``make bench``): synthetic registers, timings and query counts.

Not part of the test suite: pytest collects ``tests/`` only. See bench/README.md.
"""
