"""Run pproxy, a real HTTP and SOCKS proxy server, on 127.0.0.1 in a child process."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

# pproxy installs uvloop when it can, then fails to get an event loop from it: hide uvloop.
LAUNCHER = (
    "import sys; sys.modules['uvloop'] = None; "
    "from pproxy.server import main; sys.argv[0] = 'pproxy'; main()"
)


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_accepting(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pproxy exited with status {process.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"pproxy didn't listen on port {port} within {START_TIMEOUT}s")


@contextlib.contextmanager
def pproxy(schemes: str, auth: str | None = None) -> Iterator[int]:
    """
    Run ``pproxy`` serving ``schemes`` (e.g. ``"http+socks4+socks5"``) and yield its port.

    With ``auth`` (``"user:pass"`` for HTTP and SOCKS5, a user id for SOCKS4), clients must
    authenticate on every connection: ``--auth=-1`` stops pproxy from trusting an address
    that authenticated before.
    """
    port = free_port()
    listen = f"{schemes}://127.0.0.1:{port}" + (f"#{auth}" if auth else "")
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, "-l", listen, "--auth=-1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_accepting(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
