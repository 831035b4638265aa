from tests.deploys.conftest import emulator, fc, fc_account

__all__ = ["emulator", "fc", "fc_account"]
