"""A loopback listener that sandboxed functions can signal (they share the network, not files)."""

from __future__ import annotations

import socket
import threading
import time


class Beacon:
    """Collects what each connection sends; ``port`` goes to the function's environment."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.messages: list[bytes] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while chunk := conn.recv(65536):
                    data += chunk
            with self._lock:
                self.messages.append(data)

    def wait(self, what: str, count: int = 1, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
            time.sleep(0.02)

    def close(self) -> None:
        self._sock.close()
