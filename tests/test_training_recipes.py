"""Every training recipe loads through trl's parser with unknown keys rejected; LbT/eval helpers."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SFT = sorted((ROOT / "training/recipes/sft").glob("*.yaml"))
DPO = sorted((ROOT / "training/recipes/dpo").glob("*.yaml"))
TARGETS_LLAMA = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def _parser(path: Path):
    from training import dpo, sft

    return (sft if path.parent.name == "sft" else dpo).make_parser()


def test_the_recipes_the_issue_names_exist():
    assert {p.stem for p in SFT} == {"phi3-mini", "tinyllama", "tiny-cpu", "smollm2-135m", "smollm2-135m-stage2", "smollm2-135m-tools", "smollm2-135m-tools-more"}
    assert {p.stem for p in DPO} == {"llama3-8b", "phi3-mini", "tiny-cpu", "smollm2-135m-tools"}


@pytest.mark.parametrize("path", SFT + DPO, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recipe_loads_and_has_the_qlora_shape(path, tmp_path):
    raw = yaml.safe_load(path.read_text())
    # bf16 is for the GPU box: TrainingArguments refuses it on this CPU-only machine.
    script, train, model = _parser(path).parse_args_and_config(["--config", str(path),
                                                                "--output_dir", str(tmp_path), "--bf16", "false"])
    assert model.load_in_4bit and model.bnb_4bit_quant_type == "nf4" and model.use_bnb_nested_quant
    # smollm2-135m trains here, on CPU: its 4-bit base computes in bf16 (AVX512-BF16)
    cpu_run = path.stem.startswith("smollm2-135m")
    assert model.use_peft and model.dtype == ("bfloat16" if cpu_run else "auto")
    assert train.lr_scheduler_type == "cosine"
    if path.parent.name == "sft":
        assert (model.lora_r, model.lora_alpha) == (16, 32)
        if path.stem != "tiny-cpu":
            assert train.learning_rate == 2e-4
        assert train.assistant_only_loss or train.completion_only_loss  # loss on the reply only
    else:
        assert (model.lora_r, model.lora_alpha) == (128, 256)
        if cpu_run:  # the LMT shape scaled to a few dozen pairs on CPU: fewer accumulated rows, more epochs
            assert (train.learning_rate, train.num_train_epochs, train.gradient_accumulation_steps) == (5e-5, 2, 4)
            assert script.sft_adapter == "assets/models/smollm2-ode-tools"
        else:
            assert train.learning_rate == 2e-5 and train.num_train_epochs == 1
        if path.stem not in ("tiny-cpu", "smollm2-135m-tools"):
            assert train.gradient_accumulation_steps == 16 and script.sft_adapter
    if path.stem != "phi3-mini":  # Phi-3 fuses q,k,v and gate,up; the others name all seven
        assert sorted(model.lora_target_modules) == sorted(TARGETS_LLAMA)
    if cpu_run:  # the model store's base (tutor/model_store.py), on this CPU
        assert model.model_name_or_path == "store:smollm2-135m-instruct" and raw["use_cpu"] is True
        if path.parent.name == "sft":
            assert script.max_minutes and script.resume and script.eval_split == "validation"
    elif path.stem != "tiny-cpu":
        assert "/" in model.model_name_or_path and raw["bf16"] is True  # a real hub id, bf16 on GPU
    if path.stem == "smollm2-135m-stage2":  # stage 1's adapter, Classification/Hint weighted
        assert script.init_adapter == "runs/smollm2/sft" and script.head_loss_weight > 1


def test_real_recipes_name_the_real_bases():
    bases = {p.parent.name + "/" + p.stem: yaml.safe_load(p.read_text())["model_name_or_path"] for p in SFT + DPO}
    assert bases["sft/phi3-mini"] == bases["dpo/phi3-mini"] == "microsoft/Phi-3-mini-4k-instruct"
    assert bases["sft/tinyllama"] == "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    assert bases["dpo/llama3-8b"] == "meta-llama/Meta-Llama-3-8B-Instruct"


@pytest.mark.parametrize("path", [SFT[0], DPO[0]], ids=["sft", "dpo"])
def test_unknown_recipe_keys_are_rejected(path, tmp_path):
    data = yaml.safe_load(path.read_text())
    data["lora_rank"] = 8  # a plausible typo of lora_r
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match="lora_rank"):
        _parser(path).parse_args_and_config(["--config", str(bad), "--bf16", "false"])


def test_accelerate_configs_parse():
    configs = {p.stem: yaml.safe_load(p.read_text()) for p in (ROOT / "training/configs/accelerate").glob("*.yaml")}
    assert configs["ddp"]["distributed_type"] == "MULTI_GPU"
    assert configs["zero2"]["deepspeed_config"]["zero_stage"] == 2
    assert configs["zero3"]["deepspeed_config"]["zero_stage"] == 3
    assert configs["cpu-2proc"]["use_cpu"] and configs["cpu-2proc"]["num_processes"] == 2


# --------------------------------------------------------------------------- LbT and eval helpers

def test_pairs_need_a_gap_above_the_threshold_and_are_capped():
    from training.lbt import Candidate, pairs_for

    def c(i, total, text=None):
        return Candidate("p", i, "teacher", text or f"reply {i}", total=total)

    cands = [c(0, 1.0), c(1, 0.75), c(2, 0.5), c(3, 0.0), c(4, 0.0, text="reply 0")]
    pairs = pairs_for(cands, min_gap=0.3, max_pairs=8)
    assert all(hi.total - lo.total > 0.3 for hi, lo in pairs)
    assert (cands[0], cands[2]) in pairs and (cands[0], cands[1]) not in pairs  # 0.25 is no gap
    assert all({hi.index, lo.index} != {0, 4} for hi, lo in pairs)  # same text: never a pair
    assert pairs[0][0].total - pairs[0][1].total == max(h.total - l.total for h, l in pairs)
    assert len(pairs_for(cands, 0.3, 2)) == 2


def test_one_shot_prompt_puts_the_rationale_before_the_exam():
    from training.lbt import one_shot_messages

    messages = one_shot_messages("y' = y", "## Final Answer\n$y = C e^{x}$", "y' = 2y")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "y' = y" in messages[1]["content"] and "y' = 2y" in messages[3]["content"]


def test_classification_and_hint_readers():
    from training.evaluate import hint_names, names_type, read_classification

    assert read_classification("Second order, degree 1, linear, homogeneous.") == {"order": 2, "linear": True}
    assert read_classification("First order, nonlinear.") == {"order": 1, "linear": False}
    assert read_classification("gibberish") == {"order": None, "linear": None}
    assert names_type("separable", "Methods that apply: Separable equation, Exact equation.")
    assert not names_type("exact", "Methods that apply: Separable equation.")
    assert hint_names("bernoulli", "This is a Bernoulli equation: substitute v = y^{-1}.")
    assert not hint_names("first_order_linear", "It is not exact; find an integrating factor to make it exact.")
    assert hint_names("integrating_factor", "It is not exact; find an integrating factor to make it exact.")


def test_engine_hints_name_their_own_method():
    """The evaluation's hint metric, applied to the engine's own hints, recognizes each family."""
    from training.evaluate import hint_names
    from tutor.engine import solve
    from tutor.engine.registry import get

    for family in ("separable", "first_order_linear", "bernoulli", "constant_coefficients",
                   "undetermined_coefficients", "cauchy_euler", "reduction_of_order", "homogeneous"):
        problem = get(family).generate(1, 1).problem
        hint = solve(problem, method=family).hint
        assert hint_names(family, hint), (family, hint)


def test_summary_numbers_are_the_record_means():
    from training.evaluate import Record, summarize

    records = [Record("a", "test", "separable", "y' = y", verdict="correct", pass1=True, passk=True,
                      order_ok=True, linear_ok=True, type_ok=True, hint_ok=True, seconds=1.0, tokens=10),
               Record("b", "heldout", "bernoulli", "y' = y^2", verdict="wrong", sample_verdicts=["wrong", "correct"],
                      passk=True, order_ok=True, seconds=3.0, tokens=30)]
    s = summarize(records)
    assert s["overall"]["pass1"] == 0.5 and s["overall"]["passk"] == 1.0
    assert s["splits"]["heldout"]["pass1"] == 0.0 and s["families"]["separable"]["hint_ok"] == 1.0
    assert s["overall"]["classification_all"] == 0.5
    assert s["speed"]["tokens_per_second"] == 10.0 and s["checker_calls"] == 4


def test_evaluation_subset_caps_per_family_then_shards():
    from training.evaluate import EvalConfig, parse_args, select_rows

    def rows(split, families):
        return [{"id": f"{split}-{f}-{i}", "family": f} for f in families for i in range(3)]

    dataset = {"test": rows("test", ["a", "b"]), "heldout": rows("heldout", ["c"]), "train": rows("train", ["a"])}
    config = EvalConfig(profile="symbolic", data="-", out="-", per_family=2)
    capped = [r["id"] for r in select_rows(dataset, config)]
    assert capped == ["test-a-0", "test-a-1", "test-b-0", "test-b-1", "heldout-c-0", "heldout-c-1"]
    shards = [[r["id"] for r in select_rows(dataset, EvalConfig("symbolic", "-", "-", per_family=2, shard=f"{i}/2"))]
              for i in range(2)]
    assert sorted(shards[0] + shards[1]) == sorted(capped) and not set(shards[0]) & set(shards[1])
    with pytest.raises(SystemExit, match="I/N"):
        parse_args(["--profile", "symbolic", "--data", "-", "--out", "-", "--shard", "2/2"])
