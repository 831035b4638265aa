"""Running the emulator: in the foreground (CLI) or in a background thread (embedding, tests)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

import uvicorn

from service.emulator.app import EmulatorApp, create_emulator_app
from service.emulator.runtime.contract import Runtime
from service.emulator.settings import EmulatorSettings

_START_TIMEOUT_S = 30.0
# uvicorn's loggers are process-wide: an embedded emulator shares them with the API.
_UVICORN_LOGGERS = ("uvicorn.access", "uvicorn.error")


def uvicorn_config(app: EmulatorApp, *, log_level: str = "warning") -> uvicorn.Config:
    """The config of an emulator that is its process's only server (`fcplane emulator`)."""
    return uvicorn.Config(
        app,
        lifespan="on",
        log_level=log_level,
        ws="none",  # no websockets: avoids importing (and warning from) websocket libraries
        access_log=False,
        server_header=False,
    )


def embedded_config(app: EmulatorApp) -> uvicorn.Config:
    """The config of an emulator sharing its process (with `fcplane serve`, with tests).

    It touches no logging configuration: uvicorn's ``access_log=False``, ``log_level``
    and default ``log_config`` all act on the process-wide ``uvicorn.*`` loggers, and
    silenced the API's own access log. The emulator's lines are dropped by
    :class:`QuietThread` instead, by the thread its server runs in.
    """
    return uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,
        log_level=None,
        ws="none",
        access_log=True,  # per protocol; the filter decides (the API's lines stay)
        server_header=False,
    )


class QuietThread(logging.Filter):
    """Drops the uvicorn records (below WARNING) that one thread's server writes."""

    def __init__(self, thread_name: str) -> None:
        super().__init__()
        self.thread_name = thread_name

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.threadName != self.thread_name


class EmbeddedEmulator:
    """An emulator serving from a background thread with its own event loop."""

    def __init__(self, app: EmulatorApp, sock: socket.socket, host: str) -> None:
        self.app = app
        self._sock = sock
        port = sock.getsockname()[1]
        self.host = host
        self.port = port
        self.url = f"http://{host}:{port}"
        self.endpoint = f"{host}:{port}"
        self._server = uvicorn.Server(embedded_config(app))
        self._thread = threading.Thread(target=self._run, name=f"fc-emulator-{port}", daemon=True)
        self._quiet = QuietThread(self._thread.name)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            # Server.run picks uvicorn's loop (uvloop when installed); a plain asyncio.run
            # loop in a non-main thread answered loopback requests ~40 ms late here.
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # surfaced by start()/stop()
            self._error = exc

    def start(self) -> EmbeddedEmulator:
        for name in _UVICORN_LOGGERS:
            logging.getLogger(name).addFilter(self._quiet)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the emulator did not start: {self._error!r}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=_START_TIMEOUT_S)
        self._sock.close()
        for name in _UVICORN_LOGGERS:
            logging.getLogger(name).removeFilter(self._quiet)

    def __enter__(self) -> EmbeddedEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def start_in_thread(
    host: str,
    port: int,
    data_dir: Path,
    access_keys: dict[str, str] | None,
    *,
    settings: EmulatorSettings | None = None,
    runtime: Runtime | None = None,
) -> EmbeddedEmulator:
    """Start an emulator on ``host:port`` (0 picks a free port); ``access_keys=None``: no auth."""
    if settings is None:
        settings = EmulatorSettings(data_dir=Path(data_dir), access_keys=access_keys)
    app = create_emulator_app(settings, runtime)
    return EmbeddedEmulator(app, bind(host, port), host).start()


def serve_forever(
    host: str, port: int, settings: EmulatorSettings, log_level: str = "info"
) -> None:
    app = create_emulator_app(settings)
    config = uvicorn_config(app, log_level=log_level)
    config.host, config.port = host, port
    uvicorn.Server(config).run()
