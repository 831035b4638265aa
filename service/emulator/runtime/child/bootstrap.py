"""FC Python runtime bootstrap: runs *inside* an instance process, one per instance.

Started as ``python -I -S -B -u bootstrap.py`` by the emulator, in the instance's
sandbox. It is deliberately standalone (stdlib only, no fcplane, no pydantic):
its import time is the cold start every user sees, and the handler must not find
emulator modules on its path.

Channel: the parent's pipes arrive on fd 0 (commands) and fd 1 (replies); they
are moved aside at once and fd 1 is pointed at fd 2 (the instance log pipe), so
everything the handler prints — via ``print``, ``logging`` or a subprocess —
lands in the log, never in the protocol. A frame is ``!II`` (header length,
body length), a JSON header, then raw body bytes.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typing is not imported at run time: every import is cold-start time
    import logging
    from collections.abc import Callable
    from typing import Any

    Reply = tuple[dict[str, Any], bytes]

_FRAME = struct.Struct("!II")


def _read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int) -> Reply:
    head_len, body_len = _FRAME.unpack(_read_exact(fd, _FRAME.size))
    head = json.loads(_read_exact(fd, head_len))
    return head, _read_exact(fd, body_len) if body_len else b""


def _write_frame(fd: int, head: dict[str, Any], body: bytes = b"") -> None:
    data = json.dumps(head).encode()
    view = memoryview(_FRAME.pack(len(data), len(body)) + data + body)
    while view:
        view = view[os.write(fd, view) :]


class _Attrs:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__dict__!r})"


class Credentials(_Attrs):
    pass


class FunctionMeta(_Attrs):
    pass


class ServiceMeta(_Attrs):
    pass


class FCContext:
    """What FC passes as ``context``; 3.9/3.10 also carry credentials and service."""

    def __init__(self, cfg: dict[str, Any], request_id: str) -> None:
        fn = cfg["function"]
        self.request_id = request_id
        self.region = cfg["region"]
        self.account_id = cfg["account_id"]
        self.log_project = ""
        self.log_store = ""
        self.function = FunctionMeta(**fn)
        if cfg["runtime"] in ("python3.9", "python3.10"):
            creds = cfg["credentials"]
            self.credentials = Credentials(**creds)
            self.service = ServiceMeta(
                name="",
                log_project="",
                log_store="",
                qualifier=fn["qualifier"],
                version_id=fn["version_id"],
            )

    def getLogger(self) -> logging.Logger:  # FC's name
        return _logger(self.request_id)


_LOGGER: logging.Logger | None = None
_CURRENT_ID = [""]


def _logger(request_id: str) -> logging.Logger:
    # logging costs a few ms to import; only handlers that ask for it pay.
    global _LOGGER
    _CURRENT_ID[0] = request_id
    if _LOGGER is None:
        import logging

        class _RequestId(logging.Filter):
            def filter(self, record: logging.LogRecord) -> bool:
                record.request_id = _CURRENT_ID[0]
                return True

        fmt = logging.Formatter(
            "%(asctime)s.%(msecs)03dZ %(request_id)s [%(levelname)s] %(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
        fmt.converter = time.gmtime
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(fmt)
        handler.addFilter(_RequestId())
        _LOGGER = logging.getLogger("fc")
        _LOGGER.addHandler(handler)
        _LOGGER.setLevel(logging.INFO)
        _LOGGER.propagate = False
    return _LOGGER


def _error_body(exc: BaseException, skip_frames: int = 1) -> dict[str, Any]:
    """FC's error body; the traceback also goes to the instance log (the Tail log), as on FC."""
    import traceback

    tb = exc.__traceback__
    for _ in range(skip_frames):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    stack = [[f.filename, f.lineno, f.name, f.line or ""] for f in traceback.extract_tb(tb)]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    sys.stderr.write(f"{stamp}Z {_CURRENT_ID[0]} [ERROR] {text}")
    return {"errorMessage": str(exc), "errorType": type(exc).__name__, "stackTrace": stack}


def _encode(value: object) -> bytes:
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    try:
        return json.dumps(value).encode()
    except (TypeError, ValueError):
        return str(value).encode()


def _resolve(handler: str) -> tuple[Callable[..., Any] | None, dict[str, Any] | None]:
    """``module.function`` (``dir/module.function`` allowed) -> callable, or an error reply."""
    import importlib

    module_name, _, func_name = handler.rpartition(".")
    if not module_name or not func_name:
        return None, {
            "errorMessage": f"Invalid handler '{handler}': expected 'module.function'",
            "errorType": "InvalidHandler",
        }
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except BaseException as exc:  # SyntaxError, ImportError, anything the module raises
        body = _error_body(exc, skip_frames=0)
        body["errorMessage"] = f"Unable to import module '{module_name}': {exc}"
        return None, body
    func = getattr(module, func_name, None)
    if not callable(func):
        return None, {
            "errorMessage": f"Handler '{func_name}' is missing on module '{module_name}'",
            "errorType": "HandlerNotFound",
        }
    return func, None


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _run(cfg: dict[str, Any], head: dict[str, Any], body: bytes, cache: dict[str, Any]) -> Reply:
    op = head["op"]
    _CURRENT_ID[0] = head["request_id"]
    handler: str = cfg["handler"] if op == "invoke" else cfg[op]
    if handler not in cache:
        cache[handler] = _resolve(handler)
    func, import_error = cache[handler]
    if import_error is not None:
        return {"ok": False, "kind": "import", "error": import_error}, b""
    context = FCContext(cfg, head["request_id"])
    start = time.perf_counter()
    try:
        result = func(body, context) if op == "invoke" else func(context)
        data = _encode(result) if op == "invoke" else b""
    except MemoryError:
        # Under the rlimit fallback a runaway allocation surfaces here; the
        # parent reports it as out of memory and retires the instance.
        return {"ok": False, "kind": "oom", "ms": (time.perf_counter() - start) * 1000}, b""
    except BaseException as exc:  # SystemExit too: FC reports it rather than dying
        err = _error_body(exc)
        ms = (time.perf_counter() - start) * 1000
        return {"ok": False, "kind": "error", "error": err, "ms": ms}, b""
    return {"ok": True, "ms": (time.perf_counter() - start) * 1000}, data


def main() -> None:
    cmd_fd, reply_fd = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    cfg, _ = _read_frame(cmd_fd)
    for path in reversed(cfg["python_path"]):
        sys.path.insert(0, path)
    os.chdir(cfg["code_dir"])
    cache: dict[str, Any] = {}
    _write_frame(reply_fd, {"ok": True, "ready": True})
    while True:
        try:
            head, body = _read_frame(cmd_fd)
        except EOFError:
            return
        if head["op"] == "exit":
            return
        reply, data = _run(cfg, head, body, cache)
        _flush()
        _write_frame(reply_fd, reply, data)


if __name__ == "__main__":
    main()
