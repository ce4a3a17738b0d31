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
    # the shipped weights were trained with this recipe's loss and data settings
    trained = json.loads((MODEL_DIR / "training_summary.json").read_text(encoding="utf-8"))
    assert trained["head_loss_weight"] == args.head_loss_weight
    assert trained.get("oversample", []) == list(args.oversample)
    assert trained["minutes_total"] <= 60 and trained["torch_threads"] == args.torch_num_threads


def test_profile_points_at_the_shipped_model_in_4bit() -> None:
    profile = load_profile("demo-cpu")
    assert Path(profile.base_model) == MODEL_DIR and profile.quantization == "nf4"
    profile.check_available()


def test_it_is_the_default_model_without_smollm2_unless_another_is_configured(monkeypatch, tmp_path) -> None:
    from tutor.availability import default_profile, runnable_profiles

    monkeypatch.delenv("TUTOR_PROFILE", raising=False)
    monkeypatch.delenv("TUTOR_BASE_MODEL", raising=False)
    monkeypatch.setenv("TUTOR_MODEL_FETCH", "0")  # offline, an empty store: smollm2-ode cannot run
    monkeypatch.setenv("TUTOR_MODEL_STORE", str(tmp_path / "empty-store"))
    names = runnable_profiles()
    assert names[0] == "symbolic" and "demo-cpu" in names and "smollm2-ode" not in names
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


def test_data_init_and_head_weighted_train_steps(tmp_path) -> None:
    from training.data import load
    from training.common import MINUTES_FILE
    from training.demo_cpu import generate_data, init, make_parser, train

    recipe = PROJECT_ROOT / "training" / "recipes" / "pretrain" / "demo-cpu.yaml"
    args, training_args, model_args = make_parser().parse_args_and_config([
        "--config", str(recipe), "--output_dir", str(tmp_path / "train"),
        "--data_parts", str(tmp_path / "parts"), "--dataset_path", str(tmp_path / "merged"),
        "--data_families", "separable:3", "bernoulli:1", "--model_name_or_path", str(tmp_path / "init"),
        "--hidden_size", "64", "--intermediate_size", "128", "--num_hidden_layers", "1",
        "--num_attention_heads", "2", "--num_key_value_heads", "1", "--vocab_size", "400",
        "--max_steps", "2", "--per_device_train_batch_size", "2", "--eval_steps", "2", "--save_steps", "2",
        "--head_loss_weight", "3", "--max_minutes", "5"])
    merged = load(generate_data(args))
    assert {r["family"] for r in merged["heldout"]} == {"bernoulli"}
    trained = [r for s in ("train", "validation", "test") if s in merged for r in merged[s]]
    assert {r["family"] for r in trained} == {"separable"} and len(trained) == 6  # 3 problems, 2 notations
    stamp = (tmp_path / "parts" / "separable" / "stats.json").stat().st_mtime_ns
    generate_data(args)  # a finished family is kept, not regenerated
    assert (tmp_path / "parts" / "separable" / "stats.json").stat().st_mtime_ns == stamp

    init(args, model_args.model_name_or_path)
    summary = train(args, training_args, model_args)  # the weighted loss goes through trl's SFTTrainer
    assert summary["steps"] == 2 and summary["head_loss_weight"] == 3.0
    assert summary["eval_losses"] and all(0 < loss < 100 for _, loss in summary["eval_losses"])  # finite

    # A session that ends mid-run leaves checkpoints but no run_summary.json: the resumed run
    # still counts the minutes recorded in the checkpoint against max_minutes.
    recorded = json.loads((tmp_path / "train" / "checkpoint-2" / MINUTES_FILE).read_text())["minutes_total"]
    assert 0 < recorded <= summary["minutes_total"]
    (tmp_path / "train" / "run_summary.json").unlink()
    training_args.max_steps = 3
    resumed = train(args, training_args, model_args)
    assert resumed["steps"] == 3 and resumed["resumed_from"].endswith("checkpoint-2")
    assert resumed["minutes_total"] > recorded

    # export -> evaluate (4-bit, as the app runs it) -> model card, on this tiny run
    from training.demo_cpu import card, export
    from training.evaluate import EvalConfig, run

    args.export_dir = str(tmp_path / "export")
    export(args, training_args, model_args)
    run(EvalConfig(profile="demo-cpu", data=str(tmp_path / "merged"), out=str(tmp_path / "eval"),
                   splits=["heldout"], base_model=args.export_dir, k=1, max_new_tokens=8, progress=False))
    text = card(args, training_args, model_args, str(tmp_path / "eval")).read_text()
    assert "counted 3 times" in text and "3 of 3 planned" in text and "| bernoulli |" in text
    assert (Path(args.export_dir) / "eval.json").is_file()  # next to the card, for the About tab


def test_head_weighted_loss_weights_classification_and_hint_only() -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.common import head_weighted_loss, head_weights
    from tutor.engine import solve
    from tutor.format import chat_messages, serialize
    from tutor.parser import parse

    tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)
    model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, dtype=torch.float32)
    sections = solve(parse(PROBLEM)).to_sections()
    messages = chat_messages(PROBLEM, sections)
    ids = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]
    prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=True, add_generation_prompt=True,
                                           return_dict=True)["input_ids"]
    input_ids = torch.tensor([ids])
    labels = input_ids.clone()
    labels[0, :len(prompt)] = -100  # the system prompt also says '## Steps': only the reply counts
    marker = tokenizer.encode("## Steps", add_special_tokens=False)

    weights = head_weights(labels, marker, 3.0)[0]
    assert (weights == 3.0).sum() > 10
    heavy = tokenizer.decode(input_ids[0, weights == 3.0])
    assert heavy.startswith("## Classification") and "## Hint" in heavy and "Steps" not in heavy
    assert serialize(sections).startswith(heavy.strip())
    assert bool((weights[:len(prompt)] == 1).all())

    outputs = model(input_ids=input_ids)
    plain = model(input_ids=input_ids, labels=labels).loss  # transformers' own shifted token mean
    assert torch.allclose(head_weighted_loss(marker, 1.0)(outputs, labels), plain, atol=1e-5)
    logits, target = outputs.logits[0, :-1], labels[0, 1:]
    ce = torch.nn.functional.cross_entropy(logits, target.clamp(min=0), reduction="none")
    w = head_weights(target[None], marker, 3.0)[0] * (target != -100)
    assert torch.allclose(head_weighted_loss(marker, 3.0)(outputs, labels), (ce * w).sum() / w.sum(), atol=1e-5)


def test_oversample_repeats_only_the_named_families() -> None:
    from datasets import Dataset

    from training.demo_cpu import family_counts, oversampled

    rows = Dataset.from_dict({"family": ["a", "b", "b", "c"], "messages": [[], [], [], []]})
    out = oversampled(rows, ["b:3", "c:1"])
    assert sorted(out["family"]) == ["a", "b", "b", "b", "b", "b", "b", "c"]
    assert oversampled(rows, []) is rows
    for bad in (["z:2"], ["b:0"], ["b"], ["b:x"]):
        with pytest.raises(SystemExit):
            oversampled(rows, bad)
    # the recipe's data_families use the same FAMILY:N reader, with a default count
    assert family_counts(["separable", "exact:30"], "data_families", default=100) == [("separable", 100), ("exact", 30)]
    with pytest.raises(SystemExit, match="data_families"):
        family_counts(["exact:many"], "data_families", default=100)
