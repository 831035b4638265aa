"""Standard Python runtimes: the handler runs in ``child/bootstrap.py`` under the local interpreter.

The emulator has one interpreter (the one it runs on), so python3.9/3.10/3.12
functions all run on it; ``interpreter`` says so rather than pretending. The
parent talks to the bootstrap over the child's stdin/stdout with small frames
(see bootstrap.py); one request at a time, as FC runs standard runtimes.

The import path is FC's and nothing more: the interpreter runs with ``-I -S``
(no environment variables, no user or site directories: never the emulator's
virtualenv or the project checkout), and the bootstrap puts ``/code``,
``/opt/python`` and the layer's ``site-packages`` in front of the standard
library. In the sandbox those are the real paths, so tracebacks say
``/code/index.py`` as on FC.
"""

from __future__ import annotations

import asyncio
import json
import platform
import struct
import sys
import time
from pathlib import Path
from typing import Any

from .contract import HttpRequest, InvokeRequest, InvokeResult
from .fc_errors import (
    HTTP_FUNCTION_ERROR_STATUS,
    UNHANDLED,
    crash_message,
    log_end,
    log_start,
    log_summary,
    oom_message,
    timeout_message,
)
from .http_event import build_event, map_response
from .instance import Instance, StartFailure, failure

STARTUP_TIMEOUT_S = 30.0
_FRAME = struct.Struct("!II")


class ProcessGone(Exception):
    """The instance process closed its pipes: it exited or was killed."""


def _site_packages(opt_host: Path, opt: str) -> list[str]:
    # Layers built with `pip install -t python/lib/pythonX.Y/site-packages` (a
    # layout FC documents) work when X.Y is the local interpreter's version.
    rel = f"python/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"
    return [f"{opt}/{rel}"] if (opt_host / rel).is_dir() else []


class PythonInstance(Instance):
    concurrency = 1

    @property
    def interpreter(self) -> str:
        where = "sandboxed" if self.sandbox.enabled else "UNSANDBOXED"
        return (
            f"local python {platform.python_version()} ({self.sandbox.interpreter}, {where}) "
            f"standing in for {self.spec.runtime}"
        )

    async def _launch(self) -> None:
        spec = self.spec
        env = self.environment(listen_port=9000)
        mounts = self.mounts()
        code = self.sandbox.code_path(mounts)
        opt = self.sandbox.opt_path(mounts)
        bootstrap = self.sandbox.runtime_file("bootstrap.py")
        argv = [str(self.sandbox.interpreter), "-I", "-S", "-B", "-u", bootstrap]
        await self.spawn(argv, env, pipes=True)
        # -I -S: no PYTHONPATH, user site or site-packages, so neither the
        # emulator's modules nor the host's packages are importable; the
        # bootstrap puts the instance's path (user overrides included) on
        # sys.path itself. -B: /code is read-only, as on FC.
        python_path = [code]
        python_path += [p for p in env["PYTHONPATH"].split(":") if p and p not in python_path]
        if self.opt_dir is not None and opt is not None:
            python_path += _site_packages(self.opt_dir, opt)
        creds = spec.credentials
        config = {
            "handler": spec.handler,
            "initialize": spec.initializer,
            "pre_stop": spec.pre_stop,
            "code_dir": code,
            "python_path": python_path,
            "runtime": spec.runtime,
            "region": spec.region,
            "account_id": spec.account_id,
            "function": {
                "name": spec.name,
                "handler": spec.handler,
                "memory": spec.memory_mb,
                "timeout": spec.timeout_s,
                "version_id": spec.version_id or "",
                "qualifier": spec.qualifier,
            },
            "credentials": {
                "access_key_id": creds.access_key_id if creds else "",
                "access_key_secret": creds.access_key_secret if creds else "",
                "security_token": creds.security_token if creds else "",
            },
        }
        started = time.perf_counter()
        try:
            await asyncio.wait_for(self._call(config), STARTUP_TIMEOUT_S)
        except (TimeoutError, ProcessGone) as exc:
            ms = (time.perf_counter() - started) * 1000
            raise StartFailure(failure(crash_message(ms, self.limits.peak_mb()))) from exc

    async def _initialize(self, request_id: str) -> None:
        limit = self.spec.initializer_timeout_s
        started = time.perf_counter()
        try:
            head, _ = await asyncio.wait_for(
                self._call({"op": "initialize", "request_id": request_id}), limit
            )
        except TimeoutError as exc:
            raise StartFailure(failure(timeout_message(limit, "Function initializer"))) from exc
        except ProcessGone as exc:
            ms = (time.perf_counter() - started) * 1000
            raise StartFailure(self._gone_result(ms)) from exc
        if not head["ok"]:
            raise StartFailure(self._error_result(head, 0.0))

    async def _pre_stop(self) -> None:
        await self._call({"op": "pre_stop", "request_id": f"prestop-{self.instance_id}"})

    async def _terminate(self) -> None:
        proc = self.proc
        if proc is not None and proc.stdin is not None and not self.dead:
            try:
                await self._send({"op": "exit"})
                proc.stdin.close()
            except (ConnectionError, RuntimeError):
                pass
            if await self._wait_exit(1.0):
                return
        await super()._terminate()

    async def invoke(self, request: InvokeRequest) -> InvokeResult:
        return await self.run_payload(request.request_id, request.payload)

    async def invoke_http(self, request: HttpRequest) -> InvokeResult:
        event = build_event(request, self.spec.account_id)
        result = await self.run_payload(request.request_id, event)
        if result.error_type is not None:
            result.status = HTTP_FUNCTION_ERROR_STATUS
            result.headers = [("content-type", "application/json")]
        else:
            result.status, result.headers, result.body = map_response(result.body)
        return result

    async def run_payload(self, request_id: str, payload: bytes) -> InvokeResult:
        sink = self.open_log()
        sink += log_start("Invoke", request_id)
        self.limits.begin_request()
        started = time.perf_counter()
        head: dict[str, Any] | None = None
        body = b""
        try:
            # asyncio.timeout, not wait_for: no extra task on the warm path.
            async with asyncio.timeout(self.spec.timeout_s):
                head, body = await self._call({"op": "invoke", "request_id": request_id}, payload)
        except TimeoutError:
            pass
        except ProcessGone:
            await self._wait_exit(5.0)
        except BaseException:
            # Cancelled mid-frame (the caller went away): the channel is out of
            # step, so this process can never serve again; the manager stops it.
            self.dead = True
            self.limits.end_request()
            self.close_log(sink)
            raise
        wall_ms = (time.perf_counter() - started) * 1000
        peak = self.limits.end_request()
        if head is None:
            result = (
                failure(timeout_message(self.spec.timeout_s))
                if self.proc is not None and self.proc.returncode is None
                else self._gone_result(wall_ms)
            )
            result.duration_ms = wall_ms
            await self._kill()
        elif head["ok"]:
            result = InvokeResult(status=200, body=body, duration_ms=head["ms"])
        else:
            result = self._error_result(head, peak)
            if head["kind"] in ("import", "oom"):
                await self._kill()  # a fresh instance gets the next request
        result.max_memory_mb = peak
        result.instance_id = self.instance_id
        self._read_log()
        sink += log_end("Invoke", request_id)
        sink += log_summary(result.duration_ms, self.spec.memory_mb, peak)
        result.log = self.close_log(sink)
        self.last_used_at = time.time()
        return result

    def _gone_result(self, ms: float) -> InvokeResult:
        peak = self.limits.peak_mb()
        if self.limits.oom_killed():
            result = failure(oom_message(self.spec.memory_mb, ms))
        else:
            result = failure(crash_message(ms, peak))
        result.duration_ms = ms
        return result

    def _error_result(self, head: dict[str, Any], peak: float) -> InvokeResult:
        ms = float(head.get("ms", 0.0))
        if head["kind"] == "oom":
            result = failure(oom_message(self.spec.memory_mb, ms))
        else:
            error = head.get("error") or {"errorMessage": "unknown error"}
            result = InvokeResult(status=200, body=json.dumps(error).encode(), error_type=UNHANDLED)
        result.duration_ms = ms
        return result

    async def _send(self, head: dict[str, Any], body: bytes = b"") -> None:
        proc = self.proc
        if proc is None or proc.stdin is None:
            raise ProcessGone
        data = json.dumps(head).encode()
        # One write, so one syscall and one wake-up of the instance per request
        # (a separate write for the body let it wake up to half a frame).
        proc.stdin.write(b"".join((_FRAME.pack(len(data), len(body)), data, body)))
        await proc.stdin.drain()

    async def _call(self, head: dict[str, Any], body: bytes = b"") -> tuple[dict[str, Any], bytes]:
        proc = self.proc
        if proc is None or proc.stdout is None:
            raise ProcessGone
        try:
            await self._send(head, body)
            head_len, body_len = _FRAME.unpack(await proc.stdout.readexactly(_FRAME.size))
            reply: dict[str, Any] = json.loads(await proc.stdout.readexactly(head_len))
            data = await proc.stdout.readexactly(body_len) if body_len else b""
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise ProcessGone from exc
        return reply, data
