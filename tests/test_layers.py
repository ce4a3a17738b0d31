"""The layers of ``tutor/`` (docs/ARCHITECTURE.md, "Layers"): every import points down or sideways.

From the bottom: **reading** (the student's text and the tutor format's text: notation, plaintext,
latex, parser, problem, system, errors, format) -> **symbolic** (the engine, the checker and the
limits on symbolic work; the engine verifies with the checker and the checker's references are
the engine's, so they share a tier) -> **models** (profiles, backends, the model store, letters,
tools, model steps, claims, the session) -> **app's help** (render, katex, about, availability,
teaching, slope field, the CLI). ``tutor/__init__.py`` re-exports the public names and is left out.
``tutor`` never imports gradio or ``training``. Imports inside functions count too.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

TUTOR = Path(__file__).resolve().parents[1] / "tutor"
ORDER = ("reading", "symbolic", "models", "app")
TOP_LEVEL = {
    "notation": "reading", "plaintext": "reading", "latex": "reading", "parser": "reading", "problem": "reading",
    "system": "reading", "errors": "reading", "format": "reading",
    "bounded": "symbolic",
    "profiles": "models", "model_store": "models", "letters": "models", "tools": "models", "model_steps": "models",
    "claims": "models", "session": "models",
    "render": "app", "katex": "app", "about": "app", "availability": "app", "teaching": "app",
    "slope_field": "app", "cli": "app", "__main__": "app",
}
PACKAGES = {"engine": "symbolic", "checker": "symbolic", "backends": "models"}


def _module(path: Path) -> str:
    parts = path.relative_to(TUTOR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the package itself
    return PACKAGES.get(parts[1]) or TOP_LEVEL.get(parts[1], f"unknown module {module}")


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "tutor":  # from tutor import notation: the submodule
                found += [f"tutor.{alias.name}" if (TUTOR / f"{alias.name}.py").exists()
                          or (TUTOR / alias.name).is_dir() else "tutor" for alias in node.names]
            else:
                found.append(node.module)
    return found


MODULES = sorted(p for p in TUTOR.rglob("*.py") if p.name != "__init__.py" or p.parent != TUTOR)


def test_every_module_has_a_layer():
    unknown = [m for m in map(_module, MODULES) if (_layer(m) or "").startswith("unknown")]
    assert not unknown, f"add these to tests/test_layers.py and docs/ARCHITECTURE.md: {unknown}"


@pytest.mark.parametrize("path", MODULES, ids=_module)
def test_imports_point_down_or_sideways(path):
    here = _layer(_module(path))
    upward = [target for target in _imports(path) if target.startswith("tutor.")
              and ORDER.index(_layer(target)) > ORDER.index(here)]
    assert not upward, f"{_module(path)} ({here}) imports a higher layer: {upward}"


@pytest.mark.parametrize("path", MODULES, ids=_module)
def test_the_library_never_imports_the_app_or_training(path):
    outside = [t for t in _imports(path) if t.split(".")[0] in ("gradio", "training", "app")]
    assert not outside, f"{_module(path)} imports {outside}"
