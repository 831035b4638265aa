"""Eval tests share the stress tests' emulator, account access and settings fixtures."""

from tests.loadtest.conftest import access, emulator, gateway, job_settings

__all__ = ["access", "emulator", "gateway", "job_settings"]
