"""Releases: versions published from a function's applied state, and aliases routing to them."""
