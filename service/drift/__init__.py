"""Drift: the live function differs from what fcplane last applied."""
