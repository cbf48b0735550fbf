"""Fault tests: processes killed mid-way, dependencies failing, forms posted twice."""
