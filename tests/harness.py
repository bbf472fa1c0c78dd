"""Test harness shared by the fault and concurrency tests: a TCP proxy the test controls (to
make the database refuse or stall on cue) and gunicorn serving Kanta in a subprocess."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from devstore.signing import webhook_headers
from tests.conftest import API_SECRET, SHOP

ROOT = Path(__file__).resolve().parent.parent


def signed(topic: str, payload: object, webhook_id: str) -> tuple[bytes, dict[str, str]]:
    """A delivery as Shopify sends it to the test shop: body and every header, signed."""
    body = json.dumps(payload).encode()
    headers = webhook_headers(
        topic=topic,
        shop_domain=SHOP,
        body=body,
        secret=API_SECRET,
        api_version="2026-04",
        webhook_id=webhook_id,
    )
    return body, headers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``, in one thread, in one of three modes:

    - ``forward``: bytes pass both ways;
    - ``stall``: connections stay open and new ones are accepted, but nothing is forwarded
      (a hung server, or a network that drops everything: the client hears nothing, ever);
    - ``refuse``: every connection is reset and new ones are closed at once (a server down).
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = "forward"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port = int(self._listener.getsockname()[1])
        self._pairs: dict[socket.socket, socket.socket] = {}
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def set_mode(self, mode: str) -> None:
        assert mode in ("forward", "stall", "refuse")
        with self._lock:
            self.mode = mode
            if mode == "refuse":
                for sock in list(self._pairs):
                    if sock in self._pairs:
                        self._drop(sock, reset=True)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        with self._lock:
            for sock in list(self._pairs):
                self._drop(sock)
        self._listener.close()
        self._selector.close()

    def _drop(self, sock: socket.socket, *, reset: bool = False) -> None:
        peer = self._pairs.pop(sock, None)
        for s in (sock, peer):
            if s is None or s.fileno() == -1:
                continue
            self._pairs.pop(s, None)
            try:
                self._selector.unregister(s)
            except (KeyError, ValueError):
                pass
            if reset:  # RST, not FIN: what a crashed server's kernel sends
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                with self._lock:
                    if sock is self._listener:
                        self._accept()
                    elif sock in self._pairs and self.mode == "forward":
                        self._pump(sock)
            if self.mode == "stall":
                time.sleep(0.02)  # sockets stay readable: do not spin on them

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        if self.mode == "refuse":
            client.close()
            return
        try:
            upstream = socket.create_connection(self.target, timeout=2)
        except OSError:
            client.close()
            return
        for s in (client, upstream):
            s.setblocking(False)
            self._selector.register(s, selectors.EVENT_READ)
        self._pairs[client], self._pairs[upstream] = upstream, client

    def _pump(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(sock)
            return
        try:
            self._pairs[sock].sendall(data)
        except (BlockingIOError, OSError):
            self._drop(sock)


@contextmanager
def tcp_proxy(target: tuple[str, int]) -> Iterator[TcpProxy]:
    proxy = TcpProxy(target)
    try:
        yield proxy
    finally:
        proxy.close()


class Gunicorn:
    """Kanta under gunicorn (sync workers), in a subprocess of this test."""

    def __init__(
        self, env: Mapping[str, str], *, workers: int = 2, args: Sequence[str] = ()
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # A file, not a pipe: a pipe nobody reads fills up and blocks the server's logging.
        self.log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                f"--workers={workers}",
                f"--bind=127.0.0.1:{self.port}",
                "--timeout=30",
                *args,
                "app:create_app()",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def log_text(self) -> str:
        if self.log.closed:  # stopped: the file is gone, its text was kept
            return self._final_log
        return Path(self.log.name).read_text(errors="replace")

    def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.base}/webhooks", timeout=1).status_code == 405:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start: {self.log_text()[-2000:]}")

    def worker_pids(self, *, min_age: float = 0.0) -> list[int]:
        """The master's live children (its workers), from /proc; ``min_age`` seconds old at
        least (a worker that has booted, and so is serving)."""
        tick = os.sysconf("SC_CLK_TCK")
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            age = uptime - int(fields[19]) / tick  # field 22 of stat: start time in ticks
            if int(fields[1]) == self.process.pid and fields[0] != "Z" and age >= min_age:
                pids.append(int(entry.name))
        return pids

    def kill_worker(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.log.closed:
            # Closed here, not left to the garbage collector: an unclosed file's ResourceWarning
            # would surface, as an error, in whichever test happens to run next.
            self._final_log = self.log_text()
            self.log.close()


@contextmanager
def gunicorn(env: Mapping[str, str], **kwargs: object) -> Iterator[Gunicorn]:
    server = Gunicorn(env, **kwargs)  # type: ignore[arg-type]
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
