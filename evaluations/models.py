"""Cycles, indicators, evaluations, scores and decisions."""
