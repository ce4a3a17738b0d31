"""Start ``transformers serve`` on a free loopback port for a local model (test/bench support).

Used by the remote-backend test (tests/test_backends.py) and ``bench/stream.py``: the hub
is offline, the server needs an existing cache directory, and it is ready in a few seconds.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def transformers_serve(model_dir: Path, *, threads: int = 1, log: IO | None = None,
                       timeout: float = 90) -> Iterator[str]:
    """Yield the server's base URL once it answers; stop the server afterwards."""
    port = free_port()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": cache, "OMP_NUM_THREADS": str(threads)}
        cli = Path(sys.executable).with_name("transformers")
        output = log if log is not None else subprocess.DEVNULL
        proc = subprocess.Popen([str(cli), "serve", str(model_dir), "--host", "127.0.0.1", "--port", str(port),
                                 "--device", "cpu"], env=env, stdout=output, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if httpx.get(url + "/v1/models", timeout=2).status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    where = f"; see {log.name}" if log is not None and hasattr(log, "name") else ""
                    raise RuntimeError(f"transformers serve did not start (exit {proc.poll()}){where}")
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def app_server(env: dict[str, str] | None = None, *, log: IO | None = None,
               timeout: float = 120) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start ``python app.py`` (the symbolic profile unless ``env`` says otherwise) on a free
    loopback port in its own process group; yield (URL, process) once it answers; stop it with
    Ctrl-C (so its worker pools shut down), then SIGKILL to the group if it lingers."""
    import signal

    port = free_port()
    full_env = {**os.environ, "TUTOR_PROFILE": "symbolic", **(env or {}),
                "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
                "GRADIO_ANALYTICS_ENABLED": "False"}
    output = log if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=full_env, stdout=output,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                where = f"; see {log.name}" if log is not None and hasattr(log, "name") else ""
                raise RuntimeError(f"app.py did not start (exit {proc.poll()}){where}")
            time.sleep(0.5)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # workers or a fork server left behind
        except ProcessLookupError:
            pass
        proc.wait()
