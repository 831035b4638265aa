"""Invoking functions through fcplane: sync and async, async tasks, and the audit trail."""
