"""The fcplane CLI's client commands: `fcplane plan`, `deploy`, `drift`, `jobs run`, ...

They talk only to fcplane's public HTTP API, run what must run on the user's
machine (the s.yaml's `run` actions, zipping code) and keep what they deployed
in `.fcplane/lock.json`. The server never imports this package; service/cli.py
imports `cli` (the command lines) only when a client command runs, and each
command imports what it runs (httpx, Rich, the s.yaml parser) only when it runs.
"""
