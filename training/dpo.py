"""Direct preference optimization with QLoRA on the Learning-by-Teaching pairs (trl DPOTrainer).

Starts from the SFT model: the SFT adapter (``sft_adapter``) is merged into its base in full
precision first (merging into 4-bit weights would round the update away), the merged model is
loaded in 4-bit NF4 and a fresh LoRA (r=128, alpha=256) is trained with lr 2e-5, gradient
accumulation 16, one epoch.  With ``peft_config`` trl's reference model is the same 4-bit model
with the adapter switched off — i.e. the SFT model, as DPO wants.

Recipes: ``training/recipes/dpo/<variant>.yaml`` (``llama3-8b`` — the LMT recipe, ``phi3-mini``,
``tiny-cpu``), read by trl's ``TrlParser`` into :class:`DPOScriptArguments`, trl's ``DPOConfig``
and ``ModelConfig``; unknown keys are an error.

Run::

    python -m training.dpo --config training/recipes/dpo/tiny-cpu.yaml \\
        --model_name_or_path /tmp/tiny --sft_adapter /tmp/sft --dataset_path /tmp/lbt --output_dir /tmp/dpo
    accelerate launch --config_file training/configs/accelerate/zero2.yaml \\
        -m training.dpo --config training/recipes/dpo/llama3-8b.yaml

The input is the output of ``python -m training.lbt`` (``prompt``/``chosen``/``rejected``
conversational rows).  Writes the adapter + tokenizer to ``output_dir`` (its
``base_model_name_or_path`` is the merged SFT model), ``run_summary.json``, and with
``merge_adapter: true`` a merged full model in ``<output_dir>/merged``.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from training.common import (finish_run, is_main_process, load_model, load_tokenizer, merge_adapter,
                             peft_config, quiet_libraries, run_figures)

logger = logging.getLogger(__name__)


@dataclass
class DPOScriptArguments:
    """Data and starting-point options of ``training.dpo`` (the trainer and model blocks are trl's)."""

    dataset_path: str = field(default="data/ode-pref", metadata={"help": "output of `python -m training.lbt`"})
    train_split: str = field(default="train")
    eval_split: str | None = field(default=None)
    max_train_samples: int | None = field(default=None)
    sft_adapter: str | None = field(default=None, metadata={
        "help": "SFT adapter of model_name_or_path; merged into it before DPO (null: start from the base)"})
    sft_merged_dir: str | None = field(default=None, metadata={
        "help": "where the merged SFT model is written/reused (default <output_dir>/sft-merged)"})
    torch_num_threads: int | None = field(default=None, metadata={
        "help": "CPU threads for torch (1 is fastest for tiny models on a shared CPU)"})
    merge_adapter: bool = field(default=False, metadata={"help": "also save the DPO adapter merged"})
    merged_dir: str | None = field(default=None)


def make_parser():
    from trl import DPOConfig, ModelConfig, TrlParser

    return TrlParser((DPOScriptArguments, DPOConfig, ModelConfig))


def _load_pairs(path: str, split: str | None, limit: int | None):
    from datasets import DatasetDict, load_from_disk

    root = Path(path)
    data = load_from_disk(str(root / "dataset" if (root / "dataset").is_dir() else root))
    if not split:
        return None
    if isinstance(data, DatasetDict):
        if split not in data or len(data[split]) == 0:
            return None
        data = data[split]
    if limit is not None:
        data = data.select(range(min(limit, len(data))))
    return data.select_columns(["prompt", "chosen", "rejected"])


def starting_model(script_args: DPOScriptArguments, model_args, output_dir: str) -> str:
    """The model DPO starts from: the SFT adapter merged into its base (made once), or the base."""
    if not script_args.sft_adapter:
        return model_args.model_name_or_path
    from accelerate import PartialState

    merged = Path(script_args.sft_merged_dir or Path(output_dir) / "sft-merged")
    with PartialState().main_process_first():  # one process merges, the others wait and reuse it
        if not (merged / "config.json").is_file():
            merge_adapter(model_args.model_name_or_path, script_args.sft_adapter, merged, model_args.dtype)
    return str(merged)


def run(script_args: DPOScriptArguments, training_args, model_args) -> dict:
    quiet_libraries()
    if script_args.torch_num_threads:
        import torch

        torch.set_num_threads(script_args.torch_num_threads)
    from trl import DPOTrainer

    train = _load_pairs(script_args.dataset_path, script_args.train_split, script_args.max_train_samples)
    if train is None:
        raise SystemExit(f"no preference pairs in {script_args.dataset_path} ({script_args.train_split})")
    evaluation = _load_pairs(script_args.dataset_path, script_args.eval_split, None)
    if evaluation is None:
        training_args.eval_strategy = "no"
    from tutor.model_store import resolve

    base = model_args.model_name_or_path
    # ``store:<name>`` (a base from the package index, see tutor/model_store.py) -> its folder
    model_args.model_name_or_path = resolve(base)
    model_args.model_name_or_path = starting_model(script_args, model_args, training_args.output_dir)
    tokenizer = load_tokenizer(model_args.model_name_or_path)
    model = load_model(model_args)
    trainer = DPOTrainer(model=model, args=training_args, train_dataset=train, eval_dataset=evaluation,
                         processing_class=tokenizer, peft_config=peft_config(model_args))
    started = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - started
    trainer.save_model(training_args.output_dir)
    summary = {
        "stage": "dpo",
        "base_model": base,
        "sft_adapter": script_args.sft_adapter,
        "start_model": model_args.model_name_or_path,
        "output_dir": training_args.output_dir,
        "pairs": len(train),
        **run_figures(trainer, seconds),
        "beta": training_args.beta,
        "metrics": dict(result.metrics),
    }
    del trainer, model  # free the 4-bit copy before a merge loads the full-precision base
    return finish_run(summary, tokenizer, script_args, model_args, training_args.output_dir)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    script_args, training_args, model_args = make_parser().parse_args_and_config(argv)
    summary = run(script_args, training_args, model_args)
    if is_main_process():
        print(f"DPO: {summary['pairs']} pairs, {summary['steps']} steps in {summary['seconds']} s, "
              f"adapter in {summary['output_dir']} (on {summary['start_model']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
