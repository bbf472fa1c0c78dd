"""Measuring HTTP endpoints with wrk: a gunicorn server, pre-built requests, parsed figures.

The load generator is wrk (C, event loop), never a Python client, so it is not the bottleneck.
A benchmark writes its requests (path and ``Authorization`` value, one per line) to a file,
starts Kanta and Flask hello-world under the same gunicorn configuration, and runs the same
wrk command against each; ``lua/requests.lua`` cycles over the requests, each thread from its
own offset, and prints its figures as one JSON line that ``run_wrk`` reads.

    with GunicornServer("bench.hello:create_app()", {}) as hello:
        figures = run_wrk(hello.url, requests_file, WrkLoad())
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REQUESTS_SCRIPT = Path(__file__).resolve().parent / "lua" / "requests.lua"
HELLO_TARGET = "bench.hello:create_app()"
KANTA_TARGET = "app:create_app()"


@dataclass(frozen=True)
class WrkLoad:
    """One wrk command line: threads, open connections, seconds."""

    threads: int = 2
    connections: int = 4
    seconds: int = 10

    def describe(self) -> str:
        return f"wrk -t{self.threads} -c{self.connections} -d{self.seconds}s"


@dataclass(frozen=True)
class WrkFigures:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    errors: dict[str, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class GunicornServer:
    """``gunicorn <target>`` on a free port with the repository's ``gunicorn.conf.py`` (sync
    workers unless ``KANTA_GUNICORN_THREADS`` says otherwise), stopped on exit."""

    def __init__(
        self, target: str, env: dict[str, str], workers: int = 2, ready_path: str = "/"
    ) -> None:
        self.target, self.env, self.workers, self.ready_path = target, env, workers, ready_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> GunicornServer:
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.process = subprocess.Popen(
            [
                gunicorn,
                f"--workers={self.workers}",
                f"--bind=127.0.0.1:{self.port}",
                "--log-level=warning",
                self.target,
            ],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"{self.target} did not start:\n{error[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.target}: no answer on {self.url}") from None
                time.sleep(0.2)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    @property
    def worker_pids(self) -> list[int]:
        """The workers' process ids (children of the gunicorn master), e.g. for py-spy."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


def fetch(url: str, authorization: str | None = None) -> tuple[int, bytes]:
    """One request from Python, to check an answer before measuring (never to measure)."""
    request = urllib.request.Request(url)
    if authorization:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read())


def write_requests(path: Path, requests: list[tuple[str, str]]) -> Path:
    """Write ``(path, Authorization value)`` pairs in the format ``lua/requests.lua`` reads."""
    path.write_text("".join(f"{target}\t{authorization}\n" for target, authorization in requests))
    return path


def run_wrk(
    base_url: str, requests_file: Path, load: WrkLoad, warmup_seconds: int = 2
) -> WrkFigures:
    """Warm up (figures discarded), then measure one wrk run against ``base_url``."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get update && apt-get install -y wrk")
    env = {**os.environ, "KANTA_WRK_REQUESTS": str(requests_file)}

    def once(seconds: int) -> dict[str, Any]:
        result = subprocess.run(
            [
                wrk,
                f"-t{load.threads}",
                f"-c{load.connections}",
                f"-d{seconds}s",
                "--timeout=10s",
                "-s",
                str(REQUESTS_SCRIPT),
                base_url,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        for line in result.stdout.splitlines():
            if line.startswith("KANTA_WRK "):
                parsed: dict[str, Any] = json.loads(line.removeprefix("KANTA_WRK "))
                return parsed
        raise RuntimeError(f"no figures in wrk's output:\n{result.stdout}\n{result.stderr}")

    if warmup_seconds:
        once(warmup_seconds)
    raw = once(load.seconds)
    return WrkFigures(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        p999_ms=raw["p999_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        errors=raw["errors"],
    )


class Profiler:
    """py-spy sampling every worker of a server while a measurement runs; ``report`` prints the
    functions where the workers spent their time (inclusive and self, share of samples).

    Sampling slows the workers a little: profiled runs are for reading where time goes, not for
    the figures."""

    def __init__(self, server: GunicornServer, seconds: int, out_dir: Path) -> None:
        self.server, self.seconds, self.out_dir = server, seconds, out_dir
        self.processes: list[subprocess.Popen[bytes]] = []
        self.outputs: list[Path] = []

    def __enter__(self) -> Profiler:
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        for pid in self.server.worker_pids:
            out = self.out_dir / f"py-spy-{pid}.txt"
            self.outputs.append(out)
            self.processes.append(
                subprocess.Popen(
                    [
                        py_spy,
                        "record",
                        "--pid",
                        str(pid),
                        "--duration",
                        str(self.seconds),
                        "--rate",
                        "250",
                        "--format",
                        "raw",
                        "--output",
                        str(out),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(0.5)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for process in self.processes:
            process.wait(timeout=self.seconds + 60)

    def report(self, top: int = 25) -> str:
        inclusive: dict[str, int] = {}
        own: dict[str, int] = {}
        total = 0
        for path in self.outputs:
            if not path.exists():
                continue
            for line in path.read_text().splitlines():
                stack, _, count_text = line.rpartition(" ")
                if not stack or not count_text.isdigit():
                    continue
                count = int(count_text)
                frames = [_short_frame(f) for f in stack.split(";")]
                total += count
                for frame in set(frames):
                    inclusive[frame] = inclusive.get(frame, 0) + count
                own[frames[-1]] = own.get(frames[-1], 0) + count
        if not total:
            return "py-spy recorded no samples (is ptrace allowed?)"
        lines = [f"py-spy: {total} samples over {len(self.outputs)} workers", "inclusive:"]
        # gunicorn's own frames hold every sample: they say nothing.
        ranked = [kv for kv in inclusive.items() if "(gunicorn" not in kv[0]]
        for frame, count in sorted(ranked, key=lambda kv: -kv[1])[:top]:
            lines.append(f"  {100 * count / total:5.1f} %  {frame}")
        lines.append("self:")
        for frame, count in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
            lines.append(f"  {100 * count / total:5.1f} %  {frame}")
        return "\n".join(lines)


def _short_frame(frame: str) -> str:
    """``func (path/to/site-packages/pkg/mod.py:12)`` → ``func (pkg/mod.py)``."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", str(ROOT) + "/", "lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"


def machine() -> str:
    """What the figures were measured on, for the README."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores "
        f"({cpu}), {memory:.0f} GiB, load average {load:.2f} before the run"
    )


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def merged(runs: list[WrkFigures]) -> WrkFigures:
    """Several runs of one server as one: the rate over all of them, each latency percentile
    the median of the runs'."""
    return WrkFigures(
        requests=sum(r.requests for r in runs),
        seconds=sum(r.seconds for r in runs),
        p50_ms=_median([r.p50_ms for r in runs]),
        p90_ms=_median([r.p90_ms for r in runs]),
        p99_ms=_median([r.p99_ms for r in runs]),
        p999_ms=_median([r.p999_ms for r in runs]),
        max_ms=max(r.max_ms for r in runs),
        errors={k: sum(r.errors.get(k, 0) for r in runs) for k in runs[0].errors},
    )


@dataclass(frozen=True)
class Comparison:
    """An endpoint and hello-world measured in alternating rounds (hello, endpoint, hello,
    endpoint…), so a change of the machine's load hits both; the ratio is the median of the
    rounds' ratios."""

    name: str
    rounds: list[tuple[WrkFigures, WrkFigures]]

    @property
    def endpoint(self) -> WrkFigures:
        return merged([e for _, e in self.rounds])

    @property
    def hello(self) -> WrkFigures:
        return merged([h for h, _ in self.rounds])

    @property
    def ratio(self) -> float:
        return _median([e.rate / h.rate for h, e in self.rounds])

    @property
    def ratios(self) -> list[float]:
        return [e.rate / h.rate for h, e in self.rounds]


def compare(
    name: str,
    hello_url: str,
    hello_file: Path,
    endpoint_url: str,
    endpoint_file: Path,
    load: WrkLoad,
    rounds: int = 3,
) -> Comparison:
    pairs = []
    for _ in range(rounds):
        hello = run_wrk(hello_url, hello_file, load)
        endpoint = run_wrk(endpoint_url, endpoint_file, load)
        pairs.append((hello, endpoint))
    return Comparison(name, pairs)


def comparison_table(comparisons: list[Comparison]) -> str:
    header = (
        f"{'endpoint':<40}{'req/s':>8}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}"
        f"{'p99.9':>8}{'errors':>7}{'hello/s':>9}{'hello p99':>10}{'× hello':>8}  rounds"
    )
    lines = [header]
    for c in comparisons:
        e, h = c.endpoint, c.hello
        rounds = " ".join(f"{r:.2f}" for r in c.ratios)
        lines.append(
            f"{c.name:<40}{e.rate:>8.0f}{e.p50_ms:>8.2f}{e.p90_ms:>8.2f}{e.p99_ms:>8.2f}"
            f"{e.p999_ms:>8.2f}{e.failed:>7}{h.rate:>9.0f}{h.p99_ms:>10.2f}{c.ratio:>8.2f}"
            f"  {rounds}"
        )
    return "\n".join(lines)
