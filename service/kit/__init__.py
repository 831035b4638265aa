"""Shared plumbing: settings, database, errors, crypto, pagination."""
