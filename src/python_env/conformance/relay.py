"""A TCP listener on 127.0.0.1 that relays each connection to a Unix socket.

The local validation provider runs the server in a network namespace of its own, where only a
down loopback exists; the server listens on a Unix socket (a file, reachable from any network
namespace), and this relay gives OpenEnv's collector the ``http://127.0.0.1:PORT`` it expects.
Standard library only; one thread per direction of each connection.
"""

from __future__ import annotations

import contextlib
import socket
import threading

_CHUNK = 65_536


class UnixSocketRelay:
    """Accepts on 127.0.0.1 (a free port) and pipes each connection to ``unix_path``."""

    def __init__(self, unix_path: str) -> None:
        self._unix_path = unix_path
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="uds-relay", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self._unix_path)
            except OSError:
                client.close()
                upstream.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(_CHUNK):
                sink.sendall(data)
        except OSError:
            pass
        # Half-close, so the other direction drains; the last pump to finish closes both.
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
        with self._lock:
            self._open.discard(source)
            closing = sink not in self._open
        if closing:
            source.close()
            sink.close()

    def close(self) -> None:
        """Stop accepting and cut every relayed connection."""
        self._listener.close()
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._thread.join(timeout=5)
