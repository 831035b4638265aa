"""Runs function code in OS processes with FC's limits (see contract.py).

Entry point: ``manager.ProcessRuntime(data_dir, account_instance_limit, idle_timeout_s)``,
which implements ``contract.Runtime``. Modules, in the order a request meets them:

- ``manager``          instance pools, scheduling, throttling, idle reaping, provisioning
- ``unpack``           code and layer zips, unpacked once per content, merged /opt
- ``instance``         what every instance shares: sandboxed spawn, environment, logs, kill
- ``sandbox``          the bubblewrap sandbox every instance runs in (what it guarantees)
- ``python_instance``  standard Python runtimes, talking to ``child/bootstrap.py``
- ``custom_instance``  custom runtimes: FC's HTTP protocol to the user's server, through
                       ``child/relay.py`` (a unix socket into the instance's own network)
- ``http_event``       HTTP-trigger event JSON and response mapping (standard runtimes)
- ``limits``           cgroup v1 cpu/memory/pids, or rlimit + duty-cycle fallback
- ``fc_errors``        FC's error bodies and log lines (unconfirmed shapes live here)

Behaviour the API layer can rely on: ``Throttled`` is the only exception raised for
an invocation; every function-side failure (handler error, crash, timeout, out of
memory, unusable package) is an ``InvokeResult`` with ``error_type`` set, and so are
the emulator's refusals (``RuntimeNotSupported``, ``SandboxUnavailable``).
``FCPLANE_EMULATOR_LIMITS=auto|cgroup|portable`` forces a limits mechanism;
``limits_mechanism()`` reports the one in use, ``sandbox_status()`` the sandbox.
"""
