"""Chat-ops tests reach a live FC emulator through the deploy tests' fixtures."""

from tests.deploys.conftest import emulator, fc, fc_account

__all__ = ["emulator", "fc", "fc_account"]
