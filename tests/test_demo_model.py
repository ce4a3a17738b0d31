"""The shipped demo-cpu model (assets/models/demo-cpu): it loads in 4-bit NF4 on CPU, streams a
tutor-format reply through a session whose verdict flow runs (model answer checked; the engine's
verified solution when the model is wrong), and it is the app's default model profile."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tiny_models import one_torch_thread  # noqa: F401 (autouse fixture)
from tutor.profiles import PROJECT_ROOT, load_profile

MODEL_DIR = PROJECT_ROOT / "assets" / "models" / "demo-cpu"
# A held-out-split style problem of a trained family (separable), as a student types it.
PROBLEM = "y' = 3*x^2*y"


def test_shipped_files_are_small_and_complete() -> None:
    names = {p.name for p in MODEL_DIR.iterdir()}
    assert {"config.json", "model.safetensors", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "README.md", "eval.json"} <= names
    assert sum(p.stat().st_size for p in MODEL_DIR.rglob("*") if p.is_file()) <= 25 * 1024 * 1024
    report = json.loads((MODEL_DIR / "eval.json").read_text(encoding="utf-8"))
    assert report["info"]["profile"] == "demo-cpu"  # the About tab finds it under assets/


def test_recipe_loads_and_matches_the_shipped_model(tmp_path) -> None:
    from training.demo_cpu import make_parser

    recipe = PROJECT_ROOT / "training" / "recipes" / "pretrain" / "demo-cpu.yaml"
    args, train, model = make_parser().parse_args_and_config(["--config", str(recipe), "--output_dir", str(tmp_path)])
    assert not model.use_peft and not model.load_in_4bit  # from scratch: full parameters
    assert train.assistant_only_loss and train.eval_strategy == "steps" and train.load_best_model_at_end
    assert args.eval_split == "validation" and args.torch_num_threads == 1
    config = json.loads((MODEL_DIR / "config.json").read_text(encoding="utf-8"))
    assert (config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]) == (
        args.hidden_size, args.intermediate_size, args.num_hidden_layers)
    assert args.hidden_size % 64 == 0 and args.intermediate_size % 64 == 0  # bitsandbytes 4-bit blocks


def test_profile_points_at_the_shipped_model_in_4bit() -> None:
    profile = load_profile("demo-cpu")
    assert Path(profile.base_model) == MODEL_DIR and profile.quantization == "nf4"
    profile.check_available()


def test_it_is_the_default_model_unless_another_is_configured(monkeypatch, tmp_path) -> None:
    from tutor.availability import default_profile, runnable_profiles

    monkeypatch.delenv("TUTOR_PROFILE", raising=False)
    monkeypatch.delenv("TUTOR_BASE_MODEL", raising=False)
    names = runnable_profiles()
    assert names[0] == "symbolic" and "demo-cpu" in names
    assert default_profile(names) == "demo-cpu"
    monkeypatch.setenv("TUTOR_PROFILE", "symbolic")  # one setting away: the engine
    assert default_profile(names) == "symbolic"
    monkeypatch.delenv("TUTOR_PROFILE")
    other = tmp_path / "model"
    other.mkdir()
    (other / "config.json").write_text("{}")
    extra = tmp_path / "profiles.yaml"
    extra.write_text(f"profiles:\n  mine:\n    backend: local\n    base_model: {other}\n")
    monkeypatch.setenv("TUTOR_PROFILES_FILE", str(extra))
    assert default_profile(runnable_profiles()) == "mine"  # a configured model wins


def test_loads_in_4bit_and_streams_a_verified_session() -> None:
    import bitsandbytes as bnb

    from tutor.backends import get_backend
    from tutor.session import TutorSession

    profile = load_profile("demo-cpu")
    model = get_backend(profile).model
    four_bit = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(four_bit) == 7 * model.config.num_hidden_layers
    assert all(m.weight.quant_type == "nf4" for m in four_bit)

    updates = list(TutorSession(profile).stream(PROBLEM))
    result = updates[-1].result
    assert updates[-1].done and result is not None and not result.error
    pieces = [u.piece for u in updates if u.piece]
    assert len(pieces) > 10 and "".join(pieces) == result.text  # streamed piece by piece
    # The model learned the format: all four sections, the classification before the answer.
    first_classified = next(i for i, u in enumerate(updates) if u.sections.classification.strip())
    first_answered = next(i for i, u in enumerate(updates) if u.sections.final_answer.strip())
    assert first_classified < first_answered
    # It states an order (not always the right one: see the model card's measured accuracy).
    from training.evaluate import read_classification

    assert read_classification(result.sections.classification)["order"] in (1, 2, 3, 4)
    assert result.sections.hint.strip() and result.sections.steps
    # The verdict flow: the model's answer is checked; a wrong one brings the engine's solution.
    assert result.model_verdict["verdict"] in ("correct", "incomplete", "wrong", "undecided")
    if result.verdict == "correct":
        assert not result.fallback_used
    else:
        assert result.fallback_used and result.fallback.verified


def test_data_step_generates_each_family_once_and_merges(tmp_path) -> None:
    from training.data import load
    from training.demo_cpu import make_parser, generate_data

    recipe = PROJECT_ROOT / "training" / "recipes" / "pretrain" / "demo-cpu.yaml"
    args, _, _ = make_parser().parse_args_and_config([
        "--config", str(recipe), "--output_dir", str(tmp_path / "train"),
        "--data_parts", str(tmp_path / "parts"), "--dataset_path", str(tmp_path / "merged"),
        "--data_families", "separable:3", "bernoulli:1"])
    merged = load(generate_data(args))
    assert {r["family"] for r in merged["heldout"]} == {"bernoulli"}
    trained = [r for s in ("train", "validation", "test") if s in merged for r in merged[s]]
    assert {r["family"] for r in trained} == {"separable"} and len(trained) == 6  # 3 problems, 2 notations
    stamp = (tmp_path / "parts" / "separable" / "stats.json").stat().st_mtime_ns
    generate_data(args)  # a finished family is kept, not regenerated
    assert (tmp_path / "parts" / "separable" / "stats.json").stat().st_mtime_ns == stamp
