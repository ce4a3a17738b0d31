"""Supervised fine-tuning with QLoRA: trl's SFTTrainer on the tutor-format data.

4-bit NF4 base (double quantization; bf16 compute on CUDA, fp32 on CPU), LoRA r=16, alpha=32 on
q,k,v,o,gate,up,down, lr 2e-4 with a cosine schedule, loss on the assistant reply only.  The
settings live in YAML recipes (``training/recipes/sft/<variant>.yaml``) read by trl's
``TrlParser`` into three dataclasses: :class:`SFTScriptArguments` (data, merging), trl's
``SFTConfig`` (the trainer) and trl's ``ModelConfig`` (base model, quantization, LoRA).  Keys
no dataclass knows are an error; any key can be overridden on the command line.

Loss masking: ``assistant_only_loss: true`` trains on ``messages`` rows and needs a chat
template with ``{% generation %}`` markers (trl patches Phi-3 and Llama-3 templates itself; the
tiny test tokenizer has them); ``assistant_only_loss: false`` trains on the ``prompt`` /
``completion`` split of the same rows, where trl's completion-only loss masks the same
tokens — for templates without markers (TinyLlama's).

Run::

    python -m training.sft --config training/recipes/sft/tiny-cpu.yaml \\
        --model_name_or_path /tmp/tiny --dataset_path /tmp/data --output_dir /tmp/sft
    accelerate launch --config_file training/configs/accelerate/ddp.yaml \\
        -m training.sft --config training/recipes/sft/phi3-mini.yaml

Writes the adapter (+ tokenizer) to ``output_dir``, ``run_summary.json`` (steps/s, loss), and
with ``merge_adapter: true`` a merged full model to ``merged_dir`` (default
``<output_dir>/merged``) for serving or for DPO.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from training.common import (finish_run, head_weighted_loss, is_main_process, load_model, load_tokenizer,
                             peft_config, quiet_libraries, recorded_minutes, run_figures, steps_marker,
                             time_budget_callback)

logger = logging.getLogger(__name__)


@dataclass
class SFTScriptArguments:
    """Data and output options of ``training.sft`` (the trainer and model blocks are trl's)."""

    dataset_path: str = field(default="data/ode-sft", metadata={"help": "output of `python -m training.data`"})
    train_split: str = field(default="train")
    eval_split: str | None = field(default="validation", metadata={"help": "'' or null: no evaluation"})
    max_train_samples: int | None = field(default=None, metadata={"help": "cap on training rows (smoke runs)"})
    max_eval_samples: int | None = field(default=None)
    torch_num_threads: int | None = field(default=None, metadata={
        "help": "CPU threads for torch (1 is fastest for tiny models on a shared CPU)"})
    merge_adapter: bool = field(default=False, metadata={"help": "also save base + adapter merged"})
    merged_dir: str | None = field(default=None, metadata={"help": "where the merged model goes"})
    max_minutes: float | None = field(default=None, metadata={
        "help": "wall-clock budget over all sessions: stop (and save) once spent; resumed runs add up"})
    resume: bool = field(default=True, metadata={
        "help": "continue from the newest checkpoint in output_dir (a run killed with its session)"})
    plain_loss: bool = field(default=False, metadata={
        "help": "one forward with the model's own loss instead of trl's chunked log-prob kernel "
                "(measured about 2x slower per step on this CPU; trl's entropy/accuracy metrics are then not logged)"})
    head_loss_weight: float = field(default=1.0, metadata={
        "help": "count the reply's Classification and Hint tokens (before '## Steps') this many times in the "
                "loss, training and validation alike (implies one plain forward, like plain_loss)"})
    mask_tool_answers: bool = field(default=False, metadata={
        "help": "leave the tools format's SymPy answers (<<= ...>>, written by the runtime) out of the loss "
                "(training.common.mask_tool_answers; implies one plain forward, like plain_loss)"})
    init_adapter: str | None = field(default=None, metadata={
        "help": "warm start: train this saved LoRA adapter further instead of a new one (the model block's "
                "LoRA settings are then the adapter's own); a checkpoint in output_dir still wins"})


def make_parser():
    from trl import ModelConfig, SFTConfig, TrlParser

    return TrlParser((SFTScriptArguments, SFTConfig, ModelConfig))


def _rows(dataset, split: str | None, limit: int | None, assistant_only: bool):
    """One split with only the columns trl should see: ``messages``, or ``prompt``+``completion``."""
    if not split or split not in dataset or len(dataset[split]) == 0:
        return None
    part = dataset[split]
    if limit is not None:
        part = part.select(range(min(limit, len(part))))
    keep = ["messages"] if assistant_only else ["prompt", "completion"]
    return part.select_columns(keep)


def _PlainLossSFTTrainer(loss_func=None):
    """SFTTrainer whose loss comes from one forward: the model's own (labels -100 on the prompt), or
    ``loss_func(outputs, labels)`` (the head-weighted loss) on the same logits."""
    from trl import SFTTrainer

    class PlainLossSFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if loss_func is not None:
                outputs = model(**{k: v for k, v in inputs.items() if k != "labels"}, use_cache=False)
                loss = loss_func(outputs, inputs["labels"])
                return (loss, outputs) if return_outputs else loss
            kwargs = {} if num_items_in_batch is None else {"num_items_in_batch": num_items_in_batch}
            outputs = model(**inputs, use_cache=False, **kwargs)
            return (outputs.loss, outputs) if return_outputs else outputs.loss

    return PlainLossSFTTrainer


def _warm_started(model, adapter: str):
    """``model`` wrapped in the saved LoRA ``adapter``, trainable (the continuation of an earlier run)."""
    from peft import PeftModel

    if not (Path(adapter) / "adapter_config.json").is_file():
        raise SystemExit(f"init_adapter: no LoRA adapter (adapter_config.json) in {adapter}")
    return PeftModel.from_pretrained(model, adapter, is_trainable=True)


def run(script_args: SFTScriptArguments, training_args, model_args) -> dict:
    """Train, save the adapter (and optionally a merged model); returns the run summary."""
    quiet_libraries()
    if script_args.torch_num_threads:
        import torch

        torch.set_num_threads(script_args.torch_num_threads)
    from transformers.trainer_utils import get_last_checkpoint
    from trl import SFTTrainer

    from training.data import load

    from tutor.model_store import resolve

    # ``store:<name>`` (a base from the package index, see tutor/model_store.py) -> its folder
    base_ref = model_args.model_name_or_path
    model_args.model_name_or_path = resolve(base_ref)
    dataset = load(script_args.dataset_path)
    assistant_only = bool(training_args.assistant_only_loss)
    train = _rows(dataset, script_args.train_split, script_args.max_train_samples, assistant_only)
    if train is None:
        raise SystemExit(f"no rows in split {script_args.train_split!r} of {script_args.dataset_path}")
    evaluation = _rows(dataset, script_args.eval_split, script_args.max_eval_samples, assistant_only)
    if evaluation is None and training_args.eval_strategy != "no":
        training_args.eval_strategy = "no"

    tokenizer = load_tokenizer(model_args.model_name_or_path)
    model = load_model(model_args)
    out = Path(training_args.output_dir)
    last = get_last_checkpoint(str(out)) if script_args.resume and out.is_dir() else None
    already = (recorded_minutes(last) or 0.0) if last else 0.0
    budget = time_budget_callback(script_args.max_minutes, already)
    loss_func = None
    if script_args.head_loss_weight != 1.0 or script_args.mask_tool_answers:
        loss_func = head_weighted_loss(steps_marker(tokenizer), script_args.head_loss_weight,
                                       tokenizer if script_args.mask_tool_answers else None)
    plain = script_args.plain_loss or loss_func is not None
    trainer_class = _PlainLossSFTTrainer(loss_func) if plain else SFTTrainer
    lora = peft_config(model_args)
    if script_args.init_adapter:
        model, lora = _warm_started(model, script_args.init_adapter), None
    trainer = trainer_class(model=model, args=training_args, train_dataset=train, eval_dataset=evaluation,
                            processing_class=tokenizer, peft_config=lora, callbacks=[budget])
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=last)
    seconds = time.perf_counter() - started
    metrics = dict(result.metrics)
    if evaluation is not None:
        metrics.update(trainer.evaluate())
    trainer.save_model(training_args.output_dir)
    summary = {
        "stage": "sft",
        "base_model": model_args.model_name_or_path,
        "base_ref": base_ref,
        "output_dir": training_args.output_dir,
        "train_rows": len(train),
        "eval_rows": len(evaluation) if evaluation is not None else 0,
        **run_figures(trainer, seconds),
        "load_in_4bit": model_args.load_in_4bit,
        "metrics": metrics,
        "resumed_from": last,
        "init_adapter": script_args.init_adapter,
        "head_loss_weight": script_args.head_loss_weight,
        "mask_tool_answers": script_args.mask_tool_answers,
        "max_length": training_args.max_length,
        "minutes_total": round(budget.used(), 4),  # as the checkpoints record it (never below theirs)
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "eval_losses": [(h["step"], round(h["eval_loss"], 4)) for h in trainer.state.log_history if "eval_loss" in h],
        "train_losses": [(h["step"], round(h["loss"], 4)) for h in trainer.state.log_history if "loss" in h],
    }
    del trainer, model  # free the 4-bit copy before a merge loads the full-precision base
    return finish_run(summary, tokenizer, script_args, model_args, training_args.output_dir)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    script_args, training_args, model_args = make_parser().parse_args_and_config(argv)
    summary = run(script_args, training_args, model_args)
    if is_main_process():
        print(f"SFT: {summary['steps']} steps in {summary['seconds']} s "
              f"({summary['steps_per_second']} steps/s), adapter in {summary['output_dir']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
