"""Custom-runtime relay: runs *inside* a sandbox as its first process (stdlib only).

``python -I -S relay.py PORT SOCKET -- COMMAND...`` starts the user's server
(COMMAND, sharing this process's stdout/stderr, i.e. the instance log), waits
until ``127.0.0.1:PORT`` accepts connections, then listens on the unix socket
SOCKET — in a directory the emulator sees from the host — and forwards every
connection to the port. The socket appears only once the server listens, so
the emulator's readiness check is "can I connect to the socket". When the
server exits, the relay exits with its status, so the emulator sees the
instance die. Standalone on purpose: it must not find emulator modules, and
its start-up time is part of every custom-runtime cold start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

_CHUNK = 65536
_POLL_S = 0.005


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(_CHUNK)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        # Half-close: HTTP clients may still be reading the other direction.
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _serve(client: socket.socket, port: int) -> None:
    try:
        upstream = socket.create_connection(("127.0.0.1", port))
    except OSError:
        client.close()
        return
    upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _accept_forever(server: socket.socket, port: int) -> None:
    while True:
        try:
            client, _ = server.accept()
        except OSError:
            return
        threading.Thread(target=_serve, args=(client, port), daemon=True).start()


def main() -> None:
    port, path, sep, *command = sys.argv[1:]
    if sep != "--" or not command:
        sys.exit("usage: relay.py PORT SOCKET -- COMMAND...")
    try:
        child = subprocess.Popen(command)
    except OSError as exc:
        print(f"cannot start custom runtime {command[0]!r}: {exc}", file=sys.stderr, flush=True)
        sys.exit(127)
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    while child.poll() is None and not _listening(int(port)):
        time.sleep(_POLL_S)
    if child.poll() is None:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        tmp = f"{path}.tmp"
        if os.path.exists(tmp):
            os.unlink(tmp)
        server.bind(tmp)
        server.listen(128)
        os.rename(tmp, path)  # appears ready only once it accepts
        threading.Thread(target=_accept_forever, args=(server, int(port)), daemon=True).start()
    code = child.wait()
    os._exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
