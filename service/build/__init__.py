"""Build: a source package's dependencies installed into a code package or a layer,
in the runtime's own kind of sandbox (what ``s build`` / ``fun build`` do, server-side).

    result = await build(BuildRequest(source=zip_bytes, runtime="python3.10"),
                         cache_dir=..., work_dir=...)
    result.package, result.sha256, result.manifest, result.cached

Where things run (nothing of the user's packages ever executes on the host):

- host: pip resolves and downloads *wheels* for the runtime's platform and Python
  version, npm fetches the lock's tarballs with scripts off; sdists are fetched as
  data (``indexes.py``) because ``pip download`` of an sdist runs its setup.py;
- sandbox (bubblewrap, no network, ``sandbox.py``): sdists and project
  directories built into wheels, wheels installed, npm install scripts run;
- host again: the installed tree and the source zipped reproducibly.

Modules: ``service`` (build()), ``python`` / ``node`` (the two languages),
``requirements`` (requirements.txt as data), ``sdists`` (packages without a
wheel, built in the sandbox), ``indexes`` (finding sdists without pip),
``sandbox`` + ``child/runner.py`` (the sandboxed steps), ``process`` (host tools,
the deadline), ``archive`` (zips in and out), ``cache``, ``runtimes``.
"""

from .contract import (
    BuildFailed,
    BuildLimits,
    BuildRequest,
    BuildResult,
    FailureCode,
    Output,
    Progress,
)
from .runtimes import buildable_runtimes, target_for
from .service import BUILDER_VERSION, build

__all__ = [
    "BUILDER_VERSION",
    "BuildFailed",
    "BuildLimits",
    "BuildRequest",
    "BuildResult",
    "FailureCode",
    "Output",
    "Progress",
    "build",
    "buildable_runtimes",
    "target_for",
]
