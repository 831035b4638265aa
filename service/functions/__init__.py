"""Managed functions: registration, adoption, revisions, normalization and diffs."""
