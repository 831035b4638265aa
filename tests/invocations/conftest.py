"""Invoke tests run fcplane's API against a live FC emulator, through the official SDK."""

from tests.deploys.conftest import emulator, fc, fc_account

__all__ = ["emulator", "fc", "fc_account"]
