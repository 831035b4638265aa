"""A function's logs, read from the SLS logstore FC writes them to (GetLogs, follow)."""
