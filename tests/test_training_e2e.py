"""End to end on a tiny local model: data -> SFT -> LbT -> DPO -> evaluate (issue 7).

The base model is a tiny random Llama whose tokenizer is trained on the generated data (short
sequences keep the test fast).  A random model writes no Final Answer, so LbT runs with the
engine's reference derivation as an extra candidate: the reference is judged correct by the
checker, the teacher's samples are not, so preference pairs exist and DPO has data.  (Fitting the
tiny model to one long reply was tried: after QLoRA it no longer reproduces it reliably.)

Every checker call made by the stages is recorded (``tutor.checker.check`` wrapped), and the
test checks that the scores, pairs and report numbers follow from those verdicts.
"""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
ROOT = Path(__file__).resolve().parents[1]
SFT_RECIPE = ROOT / "training/recipes/sft/tiny-cpu.yaml"
DPO_RECIPE = ROOT / "training/recipes/dpo/tiny-cpu.yaml"


@pytest.fixture()
def one_thread():
    """Tiny matrices: one torch thread beats two busy-waiting ones on a shared 2-core CPU."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _lora_b_norm(adapter_dir: Path) -> float:
    """Sum of |lora_B| over the adapter; PEFT initializes every lora_B to zero."""
    from safetensors.torch import load_file

    weights = load_file(str(adapter_dir / "adapter_model.safetensors"))
    b = [w for name, w in weights.items() if "lora_B" in name]
    assert b, "the adapter has no LoRA B matrices"
    return float(sum(w.abs().sum() for w in b))


def _build_tiny_model(data_dir: Path, out: Path) -> Path:
    """A tiny random Llama with a tokenizer trained on the data (tutor text in few tokens)."""
    from training.tiny_model import Size, build_model, build_tokenizer, corpus

    texts = [m["content"] for split in ("train", "validation", "test", "heldout")
             for line in (data_dir / "jsonl" / f"{split}.jsonl").read_text().splitlines()
             for m in json.loads(line)["messages"]]
    tokenizer = build_tokenizer(corpus() + texts, vocab_size=1024)
    model = build_model(tokenizer, Size(64, 128, 2, 4, 2, len(tokenizer)))
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
    return out


@pytest.mark.slow
def test_data_sft_lbt_dpo_evaluate(tmp_path, monkeypatch, one_thread):
    import tutor.checker
    from training import dpo, evaluate, lbt, sft
    from training.data import DataConfig, build, save
    from tutor.backends.local import unload_all

    calls: list[tuple[str, str, str]] = []
    real_check = tutor.checker.check

    def recording_check(problem, answer, timeout=None):
        verdict = real_check(problem, answer, timeout=timeout)
        text = problem if isinstance(problem, str) else problem.source
        calls.append((text, str(answer), verdict.verdict))
        return verdict

    monkeypatch.setattr(tutor.checker, "check", recording_check)

    # --- data -----------------------------------------------------------------------------
    data_dir = tmp_path / "data"
    config = DataConfig(out=str(data_dir), per_family=3, families=["separable", "first_order_linear"],
                        heldout_family="bernoulli", jobs=2, progress=False)
    rows, stats = build(config)
    save(rows, stats, config)
    from tutor.format import answer_text

    verified = {(text, answer) for text, answer, verdict in calls if verdict == "correct"}
    assert all((r["problem"], answer_text(r["answer"])) in verified for r in rows), \
        "every generated example's answer is verified by a checker call on its own text"
    train = [r for r in rows if r["split"] == "train"]
    assert {r["family"] for r in train} == {"separable", "first_order_linear"}
    assert {r["split"] for r in rows if r["family"] == "bernoulli"} == {"heldout"}

    # --- tiny base model ----------------------------------------------------------------------
    base = _build_tiny_model(data_dir, tmp_path / "base")

    # --- SFT (QLoRA, the tiny-cpu recipe through trl's parser) --------------------------------
    sft_dir = tmp_path / "sft"
    args = sft.make_parser().parse_args_and_config([
        "--config", str(SFT_RECIPE), "--model_name_or_path", str(base), "--dataset_path", str(data_dir),
        "--output_dir", str(sft_dir), "--max_steps", "3", "--per_device_train_batch_size", "2",
        "--learning_rate", "1e-3", "--eval_split", "", "--logging_steps", "1"])
    summary = sft.run(*args)
    assert summary["steps"] == 3 and summary["load_in_4bit"] and summary["lora"]["r"] == 16
    assert _lora_b_norm(sft_dir) > 0, "SFT changed no LoRA parameter"
    assert (sft_dir / "run_summary.json").is_file() and (sft_dir / "tokenizer_config.json").is_file()

    # --- a second SFT stage: warm start from that adapter, Classification/Hint tokens weighted ------
    # A fresh adapter's lora_B is zero; at a tiny learning rate the warm start keeps (almost) the
    # first stage's weights, and still moves them.
    stage2 = tmp_path / "sft2"
    args = sft.make_parser().parse_args_and_config([
        "--config", str(SFT_RECIPE), "--model_name_or_path", str(base), "--dataset_path", str(data_dir),
        "--output_dir", str(stage2), "--max_steps", "2", "--learning_rate", "1e-5", "--warmup_steps", "0",
        "--lr_scheduler_type", "constant", "--eval_split", "",
        "--init_adapter", str(sft_dir), "--head_loss_weight", "4", "--lora_r", "8"])
    summary2 = sft.run(*args)
    assert summary2["steps"] == 2 and summary2["init_adapter"] == str(sft_dir)
    assert summary2["head_loss_weight"] == 4.0 and summary2["lora"]["r"] == 16  # the adapter's own r
    first, second = _lora_b_norm(sft_dir), _lora_b_norm(stage2)
    assert second == pytest.approx(first, rel=0.05) and second != first
    with pytest.raises(SystemExit, match="no LoRA adapter"):
        sft.run(*sft.make_parser().parse_args_and_config([
            "--config", str(SFT_RECIPE), "--model_name_or_path", str(base), "--dataset_path", str(data_dir),
            "--output_dir", str(tmp_path / "sft3"), "--max_steps", "1", "--init_adapter", str(tmp_path)]))

    # --- Learning by Teaching ------------------------------------------------------------------
    lbt_dir = tmp_path / "lbt"
    before = len(calls)
    lbt_stats = lbt.run(lbt.LbTConfig(
        data=str(data_dir), out=str(lbt_dir), base_model=str(base), adapter=str(sft_dir), k=2, exam_size=1,
        m=1, max_problems=1, max_new_tokens=200, include_reference=True, variant_search=4, progress=False))
    lbt_calls = calls[before:]
    rationales = [json.loads(line) for line in (lbt_dir / "rationales.jsonl").read_text().splitlines()]
    pairs = [json.loads(line) for line in (lbt_dir / "pairs.jsonl").read_text().splitlines()]
    assert len(rationales) == 3 and {r["source"] for r in rationales} == {"teacher", "reference"}
    judged = [r for r in rationales if r["verdict"] != "no answer"]
    assert judged, "at least the reference is judged by the checker"
    exam_verdicts = [v for r in rationales for per_exam in r["exam_verdicts"] for v in per_exam]
    assert len(lbt_calls) == len(judged) + sum(v != "no answer" for v in exam_verdicts)
    for r in rationales:
        assert r["correctness"] == (1.0 if r["verdict"] == "correct" else 0.0)
        flat = [v for per_exam in r["exam_verdicts"] for v in per_exam]
        assert r["lbt"] == sum(v == "correct" for v in flat) / len(flat)
        assert r["total"] == pytest.approx(0.5 * r["correctness"] + 0.5 * r["lbt"])
    reference = next(r for r in rationales if r["source"] == "reference")
    assert reference["verdict"] == "correct"
    assert pairs and lbt_stats["pairs"] == len(pairs)
    for p in pairs:
        assert p["chosen_score"] - p["rejected_score"] > 0.3
        assert p["chosen"][0]["content"] != p["rejected"][0]["content"]
        assert p["prompt"][-1]["role"] == "user" and p["chosen"][0]["role"] == "assistant"

    # --- DPO from the SFT adapter -----------------------------------------------------------------
    dpo_dir = tmp_path / "dpo"
    args = dpo.make_parser().parse_args_and_config([
        "--config", str(DPO_RECIPE), "--model_name_or_path", str(base), "--sft_adapter", str(sft_dir),
        "--dataset_path", str(lbt_dir), "--output_dir", str(dpo_dir)])
    dpo_summary = dpo.run(*args)
    assert dpo_summary["steps"] >= 1 and dpo_summary["lora"]["r"] == 128
    assert _lora_b_norm(dpo_dir) > 0, "DPO changed no LoRA parameter"
    merged = dpo_dir / "sft-merged"
    assert json.loads((dpo_dir / "adapter_config.json").read_text())["base_model_name_or_path"] == str(merged)

    # --- evaluation: the trained model and the symbolic reference ------------------------------------
    results = {}
    for name, extra in (("tinyllama-ode", {"base_model": str(merged), "adapter": str(dpo_dir)}),
                        ("symbolic", {})):
        before = len(calls)
        results[name] = evaluate.run(evaluate.EvalConfig(
            profile=name, data=str(data_dir), out=str(tmp_path / f"eval-{name}"), k=2, max_new_tokens=200,
            max_examples=1, progress=False, **extra))
        made = calls[before:]
        records = results[name]["records"]
        summary = results[name]["summary"]
        assert summary["checker_calls"] == len(made)
        for rec in records:
            if rec["verdict"] != "no answer":
                assert (rec["problem"], rec["final_answer"], rec["verdict"]) in made
            assert rec["pass1"] == (rec["verdict"] == "correct")
            assert rec["passk"] == (("correct" in rec["sample_verdicts"]) if rec["sample_verdicts"] else rec["pass1"])
        assert summary["overall"]["pass1"] == pytest.approx(sum(r["pass1"] for r in records) / len(records))
        assert summary["overall"]["n"] == len(records) == 2  # one test and one held-out example
        out = tmp_path / f"eval-{name}"
        assert (out / "accuracy.png").stat().st_size > 1000
        assert "pass@1" in (out / "report.md").read_text()
    assert results["tinyllama-ode"]["summary"]["speed"]["tokens_per_second"] > 0
    symbolic = results["symbolic"]["summary"]
    assert symbolic["splits"]["test"]["pass1"] == 1.0  # the engine solves its own test problem
    unload_all()


@pytest.mark.slow
def test_sft_under_accelerate_launch_two_cpu_processes(tmp_path):
    """The same script under `accelerate launch` with 2 CPU processes (gloo DDP)."""
    from training.data import DataConfig, build, save
    from training.tiny_model import build as build_tiny

    data_dir = tmp_path / "data"
    config = DataConfig(out=str(data_dir), per_family=3, families=["separable"], heldout_family=None,
                        progress=False)
    rows, stats = build(config)
    save(rows, stats, config)
    base = build_tiny(tmp_path / "tiny")
    out = tmp_path / "sft"
    accelerate = Path(sys.executable).with_name("accelerate")
    result = subprocess.run(
        [str(accelerate), "launch", "--config_file", str(ROOT / "training/configs/accelerate/cpu-2proc.yaml"),
         "-m", "training.sft", "--config", str(SFT_RECIPE), "--model_name_or_path", str(base),
         "--dataset_path", str(data_dir), "--output_dir", str(out), "--max_steps", "2",
         "--per_device_train_batch_size", "1", "--eval_split", "", "--use_cpu", "true"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((out / "run_summary.json").read_text())
    assert summary["processes"] == 2 and summary["steps"] == 2
    assert _lora_b_norm(out) > 0
