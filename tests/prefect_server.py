"""A real Prefect server on loopback for the tests that need one (started once per session)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

STARTUP_LIMIT_S = 240  # 15-50 s on two busy cores; leave room


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrefectServer:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.env = {
            **os.environ,
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": self.url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_API_URL": self.url,
            "PREFECT_SERVER_API_HOST": "127.0.0.1",
            "PREFECT_SERVER_API_PORT": str(self.port),
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
        self.proc: subprocess.Popen | None = None
        self.launched_at = 0.0
        self.log = home / "server.log"

    def start(self) -> "PrefectServer":
        """Launch the server and wait until it answers."""
        return self.launch().wait_healthy()

    def launch(self) -> "PrefectServer":
        """Start the server process and return at once (it boots in the background: the test
        session launches it before the quick tests and waits for it when a test needs it)."""
        self.home.mkdir(parents=True, exist_ok=True)
        prefect = Path(sys.executable).parent / "prefect"
        self.proc = subprocess.Popen(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.launched_at = time.monotonic()
        return self

    def wait_healthy(self) -> "PrefectServer":
        """Wait until the launched server answers /health (at most STARTUP_LIMIT_S after launch)."""
        assert self.proc is not None, "launch() the server first"
        deadline = self.launched_at + STARTUP_LIMIT_S
        while True:  # asked at least once: a server launched long ago may be up already
            if self.proc.poll() is not None:
                raise RuntimeError(f"prefect server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"prefect server not healthy {STARTUP_LIMIT_S}s after launch: {self.log.read_text()[-2000:]}"
                )
            time.sleep(1)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
