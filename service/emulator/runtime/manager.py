"""ProcessRuntime: FC's instance scheduling over real OS processes.

Instances are pooled per function *configuration* (name, resolved version and
a fingerprint of the frozen spec), so a changed config never reuses a process
started with the old one, and an alias shares instances with the version it
points at — as on FC. A request takes a free slot on a warm instance, or starts
a new instance when the function's reserved concurrency and the account limit
allow, or is throttled. A background reaper stops instances idle longer than
``idle_timeout_s`` (never below the provision target) and tops provisioned
pools back up.

Every instance runs in a bubblewrap sandbox (sandbox.py). When the sandbox
cannot be built here the runtime refuses to run code: start-up logs the reason
in one line and every invocation answers ``error_type`` SandboxUnavailable with
it — unless the runtime was created with ``unsafe_no_sandbox=True``, which runs
instances as plain host processes and says so loudly.

Runtimes the emulator cannot run (custom-container, nodejs, java, ...) answer
``error_type`` RuntimeNotSupported, never UnhandledInvocationError.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from .contract import (
    FunctionSpec,
    HttpRequest,
    InstanceInfo,
    InvokeRequest,
    InvokeResult,
    Throttled,
)
from .custom_instance import STARTUP_TIMEOUT_S, CustomInstance
from .fc_errors import not_supported, sandbox_refused, unsupported_reason
from .instance import Instance, StartFailure, failure, new_instance_id
from .limits import Limits, LimitSettings, LimitsMode
from .python_instance import PythonInstance
from .sandbox import NoSandbox, build_sandbox
from .unpack import PackageError, PackageStore

log = logging.getLogger(__name__)

_Call = Callable[[Instance], Awaitable[InvokeResult]]


def _pool_key(spec: FunctionSpec) -> str:
    # Qualifier and reservation do not change what runs; everything else does.
    frozen = dataclasses.replace(spec, qualifier="", reserved_concurrency=None, environment={})
    text = repr((frozen, sorted(spec.environment.items())))
    return f"{spec.name}@{spec.version_id or 'LATEST'}#{hashlib.sha256(text.encode()).hexdigest()}"


@dataclass
class _Pool:
    key: str
    spec: FunctionSpec
    code_dir: Path
    opt_dir: Path | None
    instances: list[Instance] = field(default_factory=list)
    provisioned: int = 0
    retired: bool = False
    started_to_provision: set[str] = field(default_factory=set)  # instance ids

    def provisioned_ids(self) -> set[str]:
        """The instances that keep the provision target: those started for it first, then the
        oldest others, never more than the target (the rest serve on demand)."""
        live = [i for i in self.instances if not i.dead]
        live.sort(key=lambda i: (i.instance_id not in self.started_to_provision, i.started_at))
        return {i.instance_id for i in live[: self.provisioned]}


class ProcessRuntime:
    """The Runtime protocol (contract.py) over OS processes on this machine."""

    def __init__(
        self,
        data_dir: Path,
        account_instance_limit: int = 100,
        idle_timeout_s: float = 300.0,
        *,
        limits: LimitsMode | None = None,
        unsafe_no_sandbox: bool = False,
        custom_startup_timeout_s: float = STARTUP_TIMEOUT_S,
    ) -> None:
        # FCPLANE_EMULATOR_LIMITS=portable|cgroup|auto lets a developer force a
        # mechanism without touching the code that constructs the runtime.
        if limits is None:
            env = os.environ.get("FCPLANE_EMULATOR_LIMITS", "auto")
            limits = "portable" if env == "portable" else "cgroup" if env == "cgroup" else "auto"
        self._root = Path(data_dir) / "runtime"
        self._scratch = self._root / "instances"
        # v2: unpacked for the sandbox user (world-readable); older unpacks may not be.
        self._packages = PackageStore(self._root / "v2")
        self._custom_startup_timeout_s = custom_startup_timeout_s
        self._sandbox, self._refusal = build_sandbox(self._root / "sandbox", unsafe_no_sandbox)
        self._limits = Limits(limits)
        self._account_limit = account_instance_limit
        self._idle_timeout_s = idle_timeout_s
        self._pools: dict[str, _Pool] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False

    # -- Runtime protocol -------------------------------------------------------

    async def invoke(self, spec: FunctionSpec, request: InvokeRequest) -> InvokeResult:
        return await self._run(spec, request.request_id, lambda inst: inst.invoke(request))

    async def invoke_http(self, spec: FunctionSpec, request: HttpRequest) -> InvokeResult:
        return await self._run(spec, request.request_id, lambda inst: inst.invoke_http(request))

    async def set_provisioned(self, spec: FunctionSpec, target: int) -> None:
        """Keep ``target`` instances of this config warm (started now, never idle-reaped)."""
        if _instance_class(spec) is None or self._refusal is not None:
            return
        pool = await self._pool_for(spec)
        pool.provisioned = max(0, target)
        await self._fill(pool)

    def instances(self, function_name: str | None = None) -> list[InstanceInfo]:
        pools = [p for p in self._pools.values() if function_name in (None, p.spec.name)]
        provisioned = {i for pool in pools for i in pool.provisioned_ids()}
        return [
            InstanceInfo(
                instance_id=inst.instance_id,
                function_name=pool.spec.name,
                qualifier=pool.spec.qualifier,
                version_id=pool.spec.version_id,
                pid=inst.pid,
                busy=inst.busy,
                started_at=inst.started_at,
                last_used_at=inst.last_used_at,
                interpreter=inst.interpreter,
                provisioned=inst.instance_id in provisioned,
            )
            for pool in pools
            for inst in pool.instances
            if not inst.dead
        ]

    async def drop_function(self, function_name: str) -> None:
        """Stop every instance; busy ones finish their request first. Provision targets go too
        (the API layer re-applies ``set_provisioned`` for a changed config)."""
        stops = []
        for key, pool in list(self._pools.items()):
            if pool.spec.name != function_name:
                continue
            del self._pools[key]
            pool.retired = True
            stops += [self._discard(pool, inst) for inst in list(pool.instances) if not inst.busy]
        await asyncio.gather(*stops, return_exceptions=True)

    def limits_mechanism(self) -> dict[str, str]:
        return self._limits.describe()

    def sandbox_status(self) -> dict[str, object]:
        if self._refusal is not None or self._sandbox is None:
            return {"enabled": False, "mode": "unavailable", "detail": self._refusal}
        if isinstance(self._sandbox, NoSandbox):
            return {"enabled": False, "mode": "unsafe-no-sandbox", "detail": self._sandbox.reason}
        return {"enabled": True, "mode": "bubblewrap", **self._sandbox.describe()}

    async def close(self) -> None:
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for pool in list(self._pools.values()):
            pool.retired = True
            for inst in list(pool.instances):
                self._discard(pool, inst)
        self._pools.clear()
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
        self._limits.close()

    # -- scheduling -------------------------------------------------------------

    async def _run(self, spec: FunctionSpec, request_id: str, call: _Call) -> InvokeResult:
        if _instance_class(spec) is None:
            return not_supported(spec.runtime)
        if self._refusal is not None:
            return sandbox_refused(self._refusal)
        try:
            pool = await self._pool_for(spec)
        except PackageError as exc:
            return failure(f"the code package cannot be used: {exc}")
        inst = self._acquire(pool, spec)
        cold = not inst.is_ready()
        try:
            if cold:
                assert inst.ready is not None
                try:
                    await asyncio.shield(inst.ready)
                except StartFailure as exc:
                    result = dataclasses.replace(exc.result, instance_id=inst.instance_id)
                    result.cold_start = True
                    return result
                except Exception as exc:  # e.g. the interpreter or command cannot be spawned
                    log.exception("instance %s failed to start", inst.instance_id)
                    result = failure(f"the instance could not be started: {exc}")
                    result.cold_start = True
                    return result
            result = await call(inst)
            result.cold_start = cold
            return result
        finally:
            inst.busy -= 1
            inst.last_used_at = time.time()
            if inst.dead or pool.retired:
                self._discard(pool, inst)

    def _acquire(self, pool: _Pool, spec: FunctionSpec) -> Instance:
        self._check_not_blocked(spec)  # before reusing a warm instance too
        self._prune(pool)
        free = [i for i in pool.instances if i.busy < i.concurrency]
        if free:
            # Prefer ready over starting, then the fullest (packs concurrent
            # runtimes), then the most recently used (warmest caches).
            inst = max(free, key=lambda i: (i.is_ready(), i.busy, i.last_used_at))
            inst.busy += 1
            return inst
        self._check_capacity(spec)
        inst = self._start_instance(pool)
        inst.busy += 1
        return inst

    @staticmethod
    def _check_not_blocked(spec: FunctionSpec) -> None:
        """Reserved concurrency 0 throttles every invocation, warm instances or not."""
        if spec.reserved_concurrency is not None and spec.reserved_concurrency <= 0:
            raise Throttled(
                f"Reserved concurrency of function '{spec.name}' is 0: every invocation is "
                "throttled"
            )

    def _check_capacity(self, spec: FunctionSpec) -> None:
        """Raise Throttled unless one more instance may run, evicting an idle one if needed.

        An idle instance holds no request, so rather than throttle a caller
        because of it (FC would have released it), it makes room — the oldest
        first, never one that keeps a provision target.
        """
        self._check_not_blocked(spec)
        reserved = spec.reserved_concurrency
        if reserved is not None and self._count(spec.name) >= reserved:
            if not self._evict_idle(spec.name):
                raise Throttled(
                    f"Reserved concurrency exceeded: function '{spec.name}' may run at most "
                    f"{reserved} instance(s) and all are busy"
                )
        if self._count() >= self._account_limit and not self._evict_idle(None):
            raise Throttled(
                f"Account instance limit exceeded: at most {self._account_limit} instances "
                "may run at once and all are busy"
            )

    def _evict_idle(self, function_name: str | None) -> bool:
        candidates = [
            (inst.last_used_at, pool, inst)
            for pool in self._pools.values()
            if (function_name is None or pool.spec.name == function_name)
            and len(pool.instances) > pool.provisioned
            for inst in pool.instances
            if not inst.busy and inst.is_ready()
        ]
        if not candidates:
            return False
        _, pool, inst = min(candidates, key=lambda c: c[0])
        self._discard(pool, inst)
        return True

    def _count(self, function_name: str | None = None) -> int:
        return sum(
            len(pool.instances)
            for pool in self._pools.values()
            if function_name is None or pool.spec.name == function_name
        )

    def _start_instance(self, pool: _Pool) -> Instance:
        spec = pool.spec
        instance_id = new_instance_id()
        cls = _instance_class(spec)
        assert cls is not None
        limits = self._limits.for_instance(instance_id, LimitSettings(spec.cpu, spec.memory_mb))
        assert self._sandbox is not None
        inst = cls(
            spec, instance_id, pool.code_dir, pool.opt_dir, self._scratch, limits, self._sandbox
        )
        if isinstance(inst, CustomInstance):
            inst.startup_timeout_s = self._custom_startup_timeout_s
        inst.ready = asyncio.get_running_loop().create_task(inst.start(f"init-{instance_id}"))
        # Waiters retrieve the outcome; this keeps an unawaited failure quiet.
        inst.ready.add_done_callback(lambda t: t.cancelled() or t.exception())
        pool.instances.append(inst)
        return inst

    async def _fill(self, pool: _Pool) -> None:
        """Start instances until the provision target is met (as far as limits allow)."""
        self._prune(pool)
        starting = []
        while len(pool.instances) < pool.provisioned and not pool.retired:
            try:
                self._check_capacity(pool.spec)
            except Throttled as exc:
                log.warning("provisioning %s stopped short: %s", pool.spec.name, exc)
                break
            inst = self._start_instance(pool)
            pool.started_to_provision.add(inst.instance_id)
            starting.append(inst)
        for inst, outcome in zip(
            starting,
            await asyncio.gather(*(i.ready for i in starting if i.ready), return_exceptions=True),
            strict=True,
        ):
            if isinstance(outcome, BaseException):
                log.warning(
                    "provisioned instance of %s failed to start: %s", pool.spec.name, outcome
                )
                self._discard(pool, inst)

    def _prune(self, pool: _Pool) -> None:
        for inst in [i for i in pool.instances if i.dead and not i.busy]:
            self._discard(pool, inst)

    def _discard(self, pool: _Pool, inst: Instance) -> asyncio.Task[None]:
        """Take an instance out of its pool and stop it (preStop first) in the background."""
        with contextlib.suppress(ValueError):
            pool.instances.remove(inst)
        pool.started_to_provision.discard(inst.instance_id)
        task = asyncio.get_running_loop().create_task(self._stop(inst))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def _stop(self, inst: Instance) -> None:
        if inst.ready is not None and not inst.ready.done():
            with contextlib.suppress(BaseException):
                await inst.ready
        try:
            await inst.stop()
        except Exception:
            log.exception("stopping instance %s failed", inst.instance_id)

    async def _pool_for(self, spec: FunctionSpec) -> _Pool:
        key = _pool_key(spec)
        pool = self._pools.get(key)
        if pool is None:
            code_dir = await self._packages.code_dir(spec.code_zip, spec.code_checksum)
            opt_dir = await self._packages.opt_dir(spec.layer_zips)
            pool = self._pools.setdefault(key, _Pool(key, spec, code_dir, opt_dir))
        if self._reaper is None and not self._closed:
            self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())
        return pool

    async def _reap_forever(self) -> None:
        interval = max(0.05, min(1.0, self._idle_timeout_s / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                self._reap_once()
            except Exception:
                log.exception("instance reaper pass failed")

    def _reap_once(self) -> None:
        now = time.time()
        for key, pool in list(self._pools.items()):
            self._prune(pool)
            idle = sorted(
                (
                    i
                    for i in pool.instances
                    if not i.busy and i.is_ready() and now - i.last_used_at >= self._idle_timeout_s
                ),
                key=lambda i: i.last_used_at,
            )
            for inst in idle:
                if len(pool.instances) <= pool.provisioned:
                    break
                self._discard(pool, inst)
            if len(pool.instances) < pool.provisioned:
                task = asyncio.get_running_loop().create_task(self._fill(pool))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            elif not pool.instances and not pool.provisioned:
                del self._pools[key]  # forgotten configs do not pile up


def _instance_class(spec: FunctionSpec) -> type[PythonInstance] | type[CustomInstance] | None:
    if unsupported_reason(spec.runtime) is not None:
        return None
    if spec.runtime.startswith("python3"):
        return PythonInstance
    return CustomInstance
