"""The FC gateway: every call fcplane makes to Function Compute goes through here."""
