"""Shared pieces of the training scripts: QLoRA loading, adapter merging, run summaries.

The SFT and DPO scripts are thin CLIs over trl's dataclass configs (``TrlParser``): the
model block is trl's ``ModelConfig`` (``model_name_or_path``, ``load_in_4bit``,
``bnb_4bit_quant_type``, ``use_bnb_nested_quant``, ``lora_r``, ``lora_alpha``,
``lora_target_modules`` ...).  This module turns it into a 4-bit NF4 model with the compute
dtype the hardware wants (bf16 on CUDA, fp32 on CPU — ``dtype: auto``), on the right device
for this process (``accelerate launch`` runs one process per device), and merges adapters.

Nothing here downloads by itself: ``model_name_or_path`` may be a hub id (a GPU box with hub
access) or a local directory (here, tests, CI).
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def quiet_libraries() -> None:
    """bitsandbytes' CPU kernel probe warns harmlessly on import (docs/ARCHITECTURE.md, Library quirks)."""
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)


def compute_dtype(name: str | None):
    """``auto``/None: bf16 on CUDA, fp32 on CPU (bitsandbytes 4-bit on CPU computes in fp32)."""
    import torch

    if name in (None, "auto"):
        return torch.bfloat16 if torch.cuda.is_available() else torch.float32
    return getattr(torch, name)


def quantization_config(model_args: Any):
    """NF4 4-bit with double quantization when ``load_in_4bit`` (QLoRA), else None."""
    from transformers import BitsAndBytesConfig

    if getattr(model_args, "load_in_8bit", False):
        return BitsAndBytesConfig(load_in_8bit=True)
    if not model_args.load_in_4bit:
        return None
    dtype = compute_dtype(model_args.dtype)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=model_args.bnb_4bit_quant_type,
        bnb_4bit_use_double_quant=model_args.use_bnb_nested_quant,
        bnb_4bit_compute_dtype=dtype,
        # ZeRO-3 shards parameters of one dtype; 4-bit weights stored as the compute dtype allow it.
        bnb_4bit_quant_storage=dtype if _deepspeed_zero3() else "uint8",
    )


def _deepspeed_zero3() -> bool:
    return os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() == "true" and \
        os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE", "") == "3"


def device_map() -> Any:
    """Where this process puts a 4-bit model: its own GPU, the CPU, or (ZeRO-3) DeepSpeed decides."""
    import torch
    from accelerate import PartialState

    if _deepspeed_zero3():
        return None
    if torch.cuda.is_available():
        return {"": PartialState().local_process_index}
    return "cpu"


def load_tokenizer(name_or_path: str):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    if tokenizer.pad_token is None:  # Llama-3 and others ship none; padding needs one
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(model_args: Any):
    """The base model for training: 4-bit NF4 when ``load_in_4bit`` (QLoRA), else full precision."""
    quiet_libraries()
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": compute_dtype(model_args.dtype), "revision": model_args.model_revision}
    if model_args.attn_implementation:
        kwargs["attn_implementation"] = model_args.attn_implementation
    quant = quantization_config(model_args)
    if quant is not None:
        kwargs["quantization_config"] = quant
        kwargs["device_map"] = device_map()
    model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, **kwargs)
    model.config.use_cache = False  # the KV cache is useless (and warned about) while training
    return model


def peft_config(model_args: Any):
    """trl's LoRA config from the model block (r, alpha, dropout, target modules)."""
    from trl import get_peft_config

    return get_peft_config(model_args)


def merge_adapter(base: str, adapter: str, out: str | Path, dtype: str | None = "auto") -> Path:
    """Merge a LoRA adapter into its (unquantized) base and save a full model + tokenizer.

    Merging into 4-bit weights would round the update away; the base is loaded in the compute
    dtype instead (fp32 on CPU, bf16 on CUDA), as the alignment-handbook does before QLoRA DPO.
    """
    quiet_libraries()
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    out = Path(out)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=compute_dtype(dtype))
    model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    model.save_pretrained(out)
    tokenizer_source = adapter if (Path(adapter) / "tokenizer_config.json").is_file() else base
    load_tokenizer(tokenizer_source).save_pretrained(out)
    return out


def write_summary(out: str | Path, summary: dict) -> Path:
    """``run_summary.json`` next to the adapter: what ran, on what, how fast, final loss."""
    path = Path(out) / "run_summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return path


def is_main_process() -> bool:
    from accelerate import PartialState

    return PartialState().is_main_process


MINUTES_FILE = "budget_minutes.json"  # in each checkpoint: the wall-clock minutes that produced it
# The same record in checkpoints written before the rename (runs started before it still resume right).
OLD_MINUTES_FILE = "demo_cpu_minutes.json"


def time_budget_callback(minutes: float | None, already: float):
    import time

    from transformers import TrainerCallback

    class TimeBudget(TrainerCallback):
        """Stop (the trainer then saves) once this run plus earlier sessions used ``minutes``; record
        the minutes in each checkpoint, so a run killed mid-way (a session's end) resumes with them."""

        def __init__(self) -> None:
            self.started = time.monotonic()

        def used(self) -> float:
            return already + (time.monotonic() - self.started) / 60

        def on_step_end(self, args, state, control, **kwargs):
            if minutes is not None and self.used() >= minutes:
                control.should_training_stop = True
                control.should_save = True
                control.should_evaluate = True
            return control

        def on_save(self, args, state, control, **kwargs):
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir():
                (folder / MINUTES_FILE).write_text(json.dumps({"minutes_total": round(self.used(), 4)}))
            return control

    return TimeBudget()


def recorded_minutes(checkpoint: str) -> float | None:
    """The minutes that produced ``checkpoint`` (its own record; None for checkpoints of older runs)."""
    for name in (MINUTES_FILE, OLD_MINUTES_FILE):
        record = Path(checkpoint) / name
        if record.is_file():
            return float(json.loads(record.read_text())["minutes_total"])
    return None


def steps_marker(tokenizer) -> list[int]:
    """The token ids of the heading that ends a reply's Classification and Hint (``## Steps``)."""
    from tutor.format import STEPS, heading

    return tokenizer.encode(heading(STEPS), add_special_tokens=False)


def head_weights(labels, marker: list[int], weight: float):
    """Per-position loss weights: ``weight`` on a reply's labels before ``marker`` (the Steps heading), else 1.

    Labels are the trainer's (``-100`` outside the reply); a row without the marker (cut off by
    ``max_length``) keeps weight 1 everywhere.
    """
    import torch

    weights = torch.ones(labels.shape, dtype=torch.float32, device=labels.device)
    n = len(marker)
    for i, row in enumerate(labels.tolist()):
        start = next((j for j, t in enumerate(row) if t != -100), None)
        if start is None:
            continue
        end = next((j for j in range(start, len(row) - n + 1) if row[j:j + n] == marker), None)
        if end is not None:
            weights[i, start:end] = weight
    return weights


def mask_tool_answers(labels, tokenizer):
    """``labels`` with every token of a tool's answer (``<<= ...>>``, :func:`tutor.tools.answer_spans`)
    set to -100: the runtime writes those, the model only reads them.

    Each row's reply tokens are decoded one by one and the spans found in their concatenation,
    so the mask does not depend on how the tokenizer happened to merge the markup.
    """
    from tutor.tools import answer_spans

    masked = labels.clone()
    for i, row in enumerate(labels.tolist()):
        positions = [j for j, t in enumerate(row) if t != -100]
        if not positions:
            continue
        pieces = [tokenizer.decode([row[j]]) for j in positions]
        text = "".join(pieces)
        spans = answer_spans(text)
        if not spans:
            continue
        offset = 0
        for j, piece in zip(positions, pieces):
            start, end = offset, offset + len(piece)
            offset = end
            if any(start < b and end > a for a, b in spans):
                masked[i, j] = -100
    return masked


def head_weighted_loss(marker: list[int], weight: float, tokenizer=None):
    """The training loss (``fn(outputs, labels)``): the next-token cross-entropy of the reply, with the
    Classification and Hint tokens counted ``weight`` times (a weighted mean, so the scale stays).

    With ``tokenizer``, tool answers are masked out first (:func:`mask_tool_answers`)."""
    import torch.nn.functional as F

    def loss(outputs, labels):
        if tokenizer is not None:
            labels = mask_tool_answers(labels, tokenizer)
        logits = outputs.logits[:, :-1].float()
        target = labels[:, 1:]
        valid = target != -100
        ce = F.cross_entropy(logits.reshape(-1, logits.size(-1)), target.clamp(min=0).reshape(-1),
                             reduction="none").view_as(target)
        w = head_weights(target, marker, weight) * valid
        return (ce * w).sum() / w.sum().clamp(min=1)

    return loss


def lora_summary(model) -> dict | None:
    """r, alpha and targets of the adapter being trained (a warm start's are its own, not the recipe's)."""
    config = getattr(model, "peft_config", {}).get("default")
    if config is None:
        return None
    return {"r": config.r, "alpha": config.lora_alpha, "targets": sorted(config.target_modules)}


def hardware() -> str:
    """What this stage ran on, in words: the GPUs by name, else the CPU model, its cores and its
    bf16 support (the model card shows it as the stage recorded it)."""
    import os
    import platform

    import torch

    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        return f"{len(names)} x {names[0]}" if len(set(names)) == 1 else ", ".join(names)
    model, flags = platform.processor() or platform.machine(), ""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")),
                     model)
        flags = next((line for line in info.splitlines() if line.startswith("flags")), "")
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{cores} CPU cores ({model}{', AVX512-BF16' if 'avx512_bf16' in flags else ''}), "
            f"{torch.get_num_threads()} torch thread(s), no GPU")


def run_figures(trainer, seconds: float) -> dict:
    """What every training stage records about its run: steps, speed, processes, device, hardware, adapter."""
    steps = trainer.state.global_step
    return {"steps": steps, "seconds": round(seconds, 2),
            "steps_per_second": round(steps / seconds, 3) if seconds else None,
            "processes": trainer.accelerator.num_processes, "device": str(trainer.accelerator.device),
            "hardware": hardware(), "lora": lora_summary(trainer.model)}


def finish_run(summary: dict, tokenizer, script_args, model_args, output_dir: str) -> dict:
    """The tail of a training stage, on the main process: the tokenizer next to the adapter (the local
    backend loads them together), the merged model when ``merge_adapter`` asks, ``run_summary.json``.

    Call it after dropping the trainer and the model: a merge loads the full-precision base.
    """
    summary.setdefault("merged_dir", None)
    if is_main_process():
        tokenizer.save_pretrained(output_dir)
        if script_args.merge_adapter:
            merged = script_args.merged_dir or str(Path(output_dir) / "merged")
            summary["merged_dir"] = str(merge_adapter(model_args.model_name_or_path, output_dir, merged,
                                                      model_args.dtype))
        write_summary(output_dir, summary)
    return summary
