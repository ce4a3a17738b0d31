"""``python -m tutor parse``: readable and JSON output, exit code 2 on a parse error."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tutor", *args], capture_output=True, text=True, timeout=120)


def test_parse_json() -> None:
    result = run("parse", "y'' + y = 0, y(0) = 1, y'(0) = 0", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] and data["function"] == "y" and data["variable"] == "x" and data["order"] == 2
    assert data["equation"] == "Eq(y(x) + Derivative(y(x), (x, 2)), 0)"
    assert [ic["latex"] for ic in data["initial_conditions"]] == ["y\\left(0\\right) = 1", "y'\\left(0\\right) = 0"]


def test_parse_readable() -> None:
    result = run("parse", "dT/dt = -k(T - 20)")
    assert result.returncode == 0
    assert "T(t)" in result.stdout and "order:     1" in result.stdout and "parameters: k" in result.stdout


@pytest.mark.parametrize("flag", [[], ["--json"]])
def test_parse_error_exit_code(flag: list[str]) -> None:
    result = run("parse", "y = 2x", *flag)
    assert result.returncode == 2
    assert "no derivative" in (result.stdout + result.stderr)
    assert "Traceback" not in result.stderr
