"""Custom runtimes: the user's own HTTP server, spoken to with FC's custom-runtime protocol.

InvokeFunction becomes ``POST /invoke``; HTTP-trigger requests are passed
through with their own method and path; lifecycle hooks are ``POST
/initialize`` and ``GET /pre-stop``; every request carries FC's ``x-fc-*``
headers. In the sandbox every instance has its own network namespace, so the
server listens on the configured port (``FC_CUSTOM_LISTEN_PORT``, 9000 by
default) exactly as on FC, and the emulator reaches it through the relay's
unix socket (see sandbox.py). Without a sandbox (``--unsafe-no-sandbox``)
instances share the host's network, so each gets a free port, and arguments
that spell the configured port, or ``/code`` and ``/opt`` paths, are rewritten.

A server that never listens fails after FC's start-up limit (120 s, a runtime
setting) with FC's "health check failed" error; one that exits fails at once.
"""

from __future__ import annotations

import asyncio
import shlex
import socket
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from .contract import CustomRuntime, FunctionSpec, HttpRequest, InvokeRequest, InvokeResult
from .fc_errors import (
    UNHANDLED,
    crash_message,
    log_end,
    log_start,
    log_summary,
    oom_message,
    timeout_message,
)
from .instance import Instance, StartFailure, failure
from .limits import InstanceLimits
from .sandbox import RELAY_SOCKET, NoSandbox, Sandbox

# FC: "The HTTP server must be ready within 120 seconds".
STARTUP_TIMEOUT_S = 120.0
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
    "upgrade",
    "proxy-connection",
    "te",
    "trailer",
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class CustomInstance(Instance):
    def __init__(
        self,
        spec: FunctionSpec,
        instance_id: str,
        code_dir: Path,
        opt_dir: Path | None,
        scratch_root: Path,
        limits: InstanceLimits,
        sandbox: Sandbox | NoSandbox,
    ) -> None:
        super().__init__(spec, instance_id, code_dir, opt_dir, scratch_root, limits, sandbox)
        self.concurrency = max(1, self.spec.instance_concurrency)
        self._config = self.spec.custom_runtime or CustomRuntime(command=[], args=[])
        self.port = self._config.port if sandbox.enabled else _free_port()
        self.startup_timeout_s = STARTUP_TIMEOUT_S
        self._client: httpx.AsyncClient | None = None

    @property
    def interpreter(self) -> str:
        argv = shlex.join(self._command())
        where = "in a sandbox" if self.sandbox.enabled else "UNSANDBOXED on the host"
        return f"local process `{argv}` {where}, standing in for {self.spec.runtime}"

    def _command(self) -> list[str]:
        cfg = self._config
        argv = [*cfg.command, *cfg.args] or ["./bootstrap"]
        if self.sandbox.enabled:
            return argv
        configured, actual = str(cfg.port), str(self.port)
        out = []
        for arg in argv:
            if arg == configured:
                arg = actual
            elif arg.endswith(":" + configured):
                arg = arg[: -len(configured)] + actual
            out.append(self.map_path(arg))
        return out

    def _fc_headers(self, request_id: str, control_path: str) -> dict[str, str]:
        spec = self.spec
        creds = spec.credentials
        return {
            "x-fc-request-id": request_id,
            "x-fc-function-name": spec.name,
            "x-fc-function-handler": spec.handler,
            "x-fc-function-memory": str(spec.memory_mb),
            "x-fc-function-timeout": str(spec.timeout_s),
            "x-fc-initialization-timeout": str(spec.initializer_timeout_s),
            "x-fc-region": spec.region,
            "x-fc-account-id": spec.account_id,
            "x-fc-qualifier": spec.qualifier,
            "x-fc-version-id": spec.version_id or "",
            "x-fc-instance-id": self.instance_id,
            "x-fc-access-key-id": creds.access_key_id if creds else "",
            "x-fc-access-key-secret": creds.access_key_secret if creds else "",
            "x-fc-security-token": creds.security_token if creds else "",
            "x-fc-control-path": control_path,
        }

    async def _launch(self) -> None:
        argv = self._command()
        limits = httpx.Limits(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency
        )
        transport: httpx.AsyncHTTPTransport | None = None
        if isinstance(self.sandbox, Sandbox):
            # Short host path: a unix socket path must fit in 108 bytes.
            self.relay_dir = Path(tempfile.mkdtemp(prefix="fcplane-relay-"))
            self.sandbox.prepare_relay_dir(self.relay_dir)
            relay = self.sandbox.runtime_file("relay.py")
            interpreter = str(self.sandbox.interpreter)
            socket_inside = self.sandbox.relay_socket()
            argv = [
                interpreter,
                "-I",
                "-S",
                "-B",
                relay,
                str(self.port),
                socket_inside,
                "--",
                *argv,
            ]
            transport = httpx.AsyncHTTPTransport(
                uds=str(self.relay_dir / RELAY_SOCKET), limits=limits
            )
        try:
            await self.spawn(argv, self.environment(self.port), pipes=False)
        except OSError as exc:
            raise StartFailure(failure(f"cannot start custom runtime: {exc}")) from exc
        self._client = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.port}",
            timeout=None,  # the runtime enforces FC's timeout itself
            limits=limits,
            transport=transport,
        )
        started = time.perf_counter()
        deadline = started + self.startup_timeout_s
        while not await self._listening():
            ms = (time.perf_counter() - started) * 1000
            if self.dead or (self.proc is not None and self.proc.returncode is not None):
                raise StartFailure(failure(crash_message(ms, self.limits.peak_mb())))
            if time.perf_counter() > deadline:
                raise StartFailure(
                    failure(
                        f"Function instance health check failed on port {self._config.port} "
                        f"in {self.startup_timeout_s:g} seconds."
                    )
                )
            await asyncio.sleep(0.01)

    async def _listening(self) -> bool:
        if self.relay_dir is not None:
            # The relay creates its socket only once the server accepts connections.
            path = self.relay_dir / RELAY_SOCKET
            if not path.exists():
                return False
            try:
                _reader, writer = await asyncio.open_unix_connection(str(path))
            except OSError:
                return False
        else:
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                return False
        writer.close()
        await writer.wait_closed()
        url = self._config.health_check_url
        if url and self._client is not None:
            try:
                response = await self._client.get(url, timeout=1.0)
            except httpx.HTTPError:
                return False
            return response.status_code == 200
        return True

    async def _initialize(self, request_id: str) -> None:
        limit = self.spec.initializer_timeout_s
        try:
            response = await asyncio.wait_for(
                self._request("POST", "/initialize", request_id, "/initialize", [], b""), limit
            )
        except TimeoutError as exc:
            raise StartFailure(failure(timeout_message(limit, "Function initializer"))) from exc
        except httpx.HTTPError as exc:
            raise StartFailure(failure(f"initializer failed: {exc}")) from exc
        if response.status_code != 200 or response.headers.get("x-fc-status") == "404":
            raise StartFailure(
                InvokeResult(status=200, body=response.content, error_type=UNHANDLED)
            )

    async def _pre_stop(self) -> None:
        await self._request("GET", "/pre-stop", f"prestop-{self.instance_id}", "/pre-stop", [], b"")

    async def _terminate(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        await super()._terminate()

    async def _request(
        self,
        method: str,
        target: str,
        request_id: str,
        control_path: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> httpx.Response:
        if self._client is None:
            raise httpx.ConnectError("custom runtime is not running")
        merged = [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP]
        merged += list(self._fc_headers(request_id, control_path).items())
        return await self._client.request(method, target, headers=merged, content=body)

    async def invoke(self, request: InvokeRequest) -> InvokeResult:
        headers = [("content-type", "application/octet-stream")]
        result = await self._exchange(
            "POST", "/invoke", request.request_id, "/invoke", headers, request.payload
        )
        if result.error_type is None and result.status >= 500:
            result.error_type = UNHANDLED  # unconfirmed: FC treats a 5xx from /invoke as a failure
        result.status = 200  # InvokeFunction answers 200; the error travels in error_type
        result.headers = []
        return result

    async def invoke_http(self, request: HttpRequest) -> InvokeResult:
        target = request.raw_path + (f"?{urlencode(request.query)}" if request.query else "")
        return await self._exchange(
            request.method,
            target,
            request.request_id,
            "/http-invoke",
            request.headers,
            request.body,
        )

    async def _exchange(
        self,
        method: str,
        target: str,
        request_id: str,
        control_path: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> InvokeResult:
        sink = self.open_log()
        sink += log_start("Invoke", request_id)
        self.limits.begin_request()
        started = time.perf_counter()
        response: httpx.Response | None = None
        timed_out = False
        broken = ""
        try:
            async with asyncio.timeout(self.spec.timeout_s):  # no extra task per request
                response = await self._request(
                    method, target, request_id, control_path, headers, body
                )
        except TimeoutError:
            timed_out = True
        except httpx.HTTPError as exc:
            broken = str(exc) or type(exc).__name__
            await self._wait_exit(0.2)
        except BaseException:
            self.limits.end_request()
            self.close_log(sink)
            raise
        ms = (time.perf_counter() - started) * 1000
        peak = self.limits.end_request()
        if response is not None:
            out_headers = [
                (k, v) for k, v in response.headers.multi_items() if k.lower() not in _HOP_BY_HOP
            ]
            error = UNHANDLED if response.headers.get("x-fc-status") == "404" else None
            result = InvokeResult(
                status=response.status_code,
                body=response.content,
                headers=out_headers,
                error_type=error,
            )
        elif timed_out:
            result = failure(timeout_message(self.spec.timeout_s))
            await self._kill()
        elif self.limits.oom_killed():
            result = failure(oom_message(self.spec.memory_mb, ms))
            await self._kill()
        elif self.proc is not None and self.proc.returncode is not None:
            result = failure(crash_message(ms, peak))
            await self._kill()
        else:
            # Alive but the exchange broke: this server cannot be trusted again.
            result = failure(f"custom runtime broke the connection: {broken}")
            await self._kill()
        result.duration_ms = ms
        result.max_memory_mb = peak
        result.instance_id = self.instance_id
        self._read_log()
        sink += log_end("Invoke", request_id)
        sink += log_summary(ms, self.spec.memory_mb, peak)
        result.log = self.close_log(sink)
        self.last_used_at = time.time()
        return result
