"""training.common on a tiny local model (training.tiny_model, no download): the head-weighted loss,
and the wall-clock budget that a resumed training run counts from its checkpoint."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tiny_models import one_torch_thread, tiny_model_dir  # noqa: F401 (autouse fixture)

ROOT = Path(__file__).resolve().parents[1]
SFT_RECIPE = ROOT / "training/recipes/sft/tiny-cpu.yaml"
PROBLEM = "y' = 3*x^2*y"  # separable, as a student types it


def test_head_weighted_loss_weights_classification_and_hint_only(tmp_path_factory) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.common import head_weighted_loss, head_weights, steps_marker
    from tutor.engine import solve
    from tutor.format import chat_messages, serialize
    from tutor.parser import parse

    model_dir = tiny_model_dir(tmp_path_factory, taught=False)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    sections = solve(parse(PROBLEM)).to_sections()
    messages = chat_messages(PROBLEM, sections)
    ids = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]
    prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=True, add_generation_prompt=True,
                                           return_dict=True)["input_ids"]
    input_ids = torch.tensor([ids])
    labels = input_ids.clone()
    labels[0, :len(prompt)] = -100  # the system prompt also says '## Steps': only the reply counts
    marker = steps_marker(tokenizer)
    assert marker == tokenizer.encode("## Steps", add_special_tokens=False)

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


@pytest.mark.slow
def test_a_resumed_sft_run_counts_the_minutes_its_checkpoint_recorded(tmp_path_factory, tmp_path) -> None:
    """A session that ends mid-run leaves checkpoints: the resumed run still counts the minutes
    recorded in the checkpoint against max_minutes (also from a checkpoint written before the
    record's file was renamed)."""
    from datasets import Dataset, DatasetDict

    from training import sft
    from training.common import MINUTES_FILE, OLD_MINUTES_FILE, recorded_minutes
    from training.tiny_model import EXAMPLES
    from tutor.format import chat_messages

    data = tmp_path / "data"
    rows = [{"messages": chat_messages(problem, sections)} for problem, sections in EXAMPLES] * 2
    DatasetDict({"train": Dataset.from_list(rows)}).save_to_disk(str(data))
    base = tiny_model_dir(tmp_path_factory, taught=False)
    out = tmp_path / "sft"

    def run(steps: int) -> dict:
        return sft.run(*sft.make_parser().parse_args_and_config([
            "--config", str(SFT_RECIPE), "--model_name_or_path", str(base), "--dataset_path", str(data),
            "--output_dir", str(out), "--max_steps", str(steps), "--per_device_train_batch_size", "2",
            "--eval_split", "", "--save_strategy", "steps", "--save_steps", "2", "--max_minutes", "5",
            "--head_loss_weight", "3"]))

    summary = run(2)  # the weighted loss goes through trl's SFTTrainer
    assert summary["steps"] == 2 and summary["head_loss_weight"] == 3.0
    checkpoint = out / "checkpoint-2"
    recorded = json.loads((checkpoint / MINUTES_FILE).read_text())["minutes_total"]
    assert 0 < recorded <= summary["minutes_total"]

    resumed = run(3)
    assert resumed["steps"] == 3 and resumed["resumed_from"].endswith("checkpoint-2")
    assert resumed["minutes_total"] > recorded

    (checkpoint / MINUTES_FILE).rename(checkpoint / OLD_MINUTES_FILE)
    assert recorded_minutes(str(checkpoint)) == recorded
    (checkpoint / OLD_MINUTES_FILE).unlink()
    assert recorded_minutes(str(checkpoint)) is None
