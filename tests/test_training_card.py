"""The model card is assembled from what each training stage recorded (training/card.py)."""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE2 = ROOT / "training/recipes/sft/smollm2-135m-stage2.yaml"


def _adapter(folder: Path) -> None:
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file({"base_model.model.layers.0.q_proj.lora_A.weight": torch.ones(2, 4)},
              folder / "adapter_model.safetensors")
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "store:smollm2-135m-instruct",
                                                            "r": 16}))


def _eval_dir(folder: Path) -> Path:
    folder.mkdir(parents=True)
    block = {"n": 33, "pass1": 0.0, "passk": 0.0, "classification_all": 0.5, "hint_ok": 0.75}
    (folder / "eval.json").write_text(json.dumps({
        "info": {"k": 1}, "config": {"temperature": 0.8, "per_family": 3},
        "summary": {"overall": block, "splits": {"test": block, "heldout": {**block, "n": 3}},
                    "speed": {"first_piece_s": 0.3, "tokens_per_second": 21.0}}}))
    (folder / "report.md").write_text("# Evaluation\n\n## Overall\n\n| | n |\n|---|---|\n| all | 36 |\n")
    return folder


def test_a_warm_started_stage_keeps_the_earlier_stage_in_the_card(tmp_path):
    from training.card import card, export

    shipped = tmp_path / "shipped"  # the stage-1 export the second stage started from, and replaces
    _adapter(shipped)
    stage1 = {"stage": "sft", "steps": 762, "train_rows": 1365, "minutes_total": 63.8,
              "eval_losses": [[200, 0.33], [762, 0.114]], "exported_checkpoint": "checkpoint-762"}
    (shipped / "training_summary.json").write_text(json.dumps(stage1))

    run = tmp_path / "run"
    _adapter(run / "checkpoint-50")
    (run / "run_summary.json").write_text(json.dumps({
        "stage": "sft", "steps": 50, "train_rows": 1365, "minutes_total": 5.0, "init_adapter": str(shipped),
        "head_loss_weight": 8.0, "max_length": 448, "base_ref": "store:smollm2-135m-instruct",
        "best_checkpoint": str(run / "checkpoint-50"), "eval_losses": [[50, 0.03]]}))
    export(run, shipped)
    summary = json.loads((shipped / "training_summary.json").read_text())
    assert [s["steps"] for s in summary["earlier_stages"]] == [762] and summary["steps"] == 50
    config = json.loads((shipped / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"  # the hub id, for outside tools

    data = tmp_path / "data"
    data.mkdir()
    (data / "stats.json").write_text(json.dumps({"counts": {"train": 1365, "validation": 66, "test": 66,
                                                            "heldout": 38}, "config": {"heldout_family": "bernoulli"}}))
    (shipped / "README.md").write_text("old card\n\n## Honest notes\n\n- kept by hand.\n")
    text = card(shipped, STAGE2, data, _eval_dir(tmp_path / "eval")).read_text()
    assert "- stage 1: 762 updates (1365 training rows), 63.8 min" in text
    assert "- stage 2: 50 updates" in text and "weighted 8x" in text and "max length 448" in text
    assert "warm start from the stage before" in text and "`checkpoint-50`" in text
    assert "**50.0%**" in text and "**75.0%**" in text  # classification and hint from eval.json
    assert text.rstrip().endswith("- kept by hand.") and "old card" not in text
    assert (shipped / "eval.json").is_file()  # next to the card, for the About tab


def test_the_card_says_the_hardware_each_stage_recorded() -> None:
    from training.card import _hardware
    from training.common import hardware

    here = hardware()
    assert ("CPU cores" in here and "torch thread" in here) or " x " in here
    summary = {"hardware": "1 x NVIDIA H100", "earlier_stages": [{"hardware": here}, {"hardware": here}, {}]}
    shown = _hardware(summary)
    assert shown.split("; ") == [here, "2 shared CPU cores (AMD EPYC, AVX512-BF16), no GPU", "1 x NVIDIA H100"]
