"""The embedded ``demo-cpu`` tutor model: a small Llama trained from scratch on 2 CPU cores.

There is no pretrained base to adapt (no download), so this is full-parameter training of a
randomly initialized Llama-architecture model on the tutor-format data of :mod:`training.data`,
with a byte-level BPE tokenizer trained on the same data (:func:`training.tiny_model.build_tokenizer`,
the tutor chat template with ``{% generation %}`` markers, so the loss is on the reply only).
The trainer is trl's ``SFTTrainer`` configured by a YAML recipe read with ``TrlParser``
(``training/recipes/pretrain/demo-cpu.yaml``: the same three dataclasses as :mod:`training.sft`,
with ``use_peft: false`` and ``load_in_4bit: false``); what :mod:`training.sft` lacks here is
resuming (a background run on a shared machine dies with its session) and a wall-clock budget.

Steps (each one a subcommand; ``all`` runs data, init, train and export in order)::

    # 1. python -m training.data once per family of the recipe's data_families, then merged
    #    (``merge --parts DIR --out DIR`` merges folders made by hand)
    python -m training.demo_cpu data --config training/recipes/pretrain/demo-cpu.yaml
    # 2. tokenizer (train split only) + randomly initialized model of the recipe's size
    python -m training.demo_cpu init --config training/recipes/pretrain/demo-cpu.yaml
    # 3. train; resumes from the newest checkpoint in output_dir; stops at --max_minutes, counted
    #    over sessions (each checkpoint records the minutes that produced it)
    python -m training.demo_cpu train --config training/recipes/pretrain/demo-cpu.yaml
    # 4. the best checkpoint (lowest validation loss) -> assets/models/demo-cpu
    python -m training.demo_cpu export --config training/recipes/pretrain/demo-cpu.yaml
    # 5. after python -m training.evaluate --profile demo-cpu --out DIR: the model card
    python -m training.demo_cpu card --config training/recipes/pretrain/demo-cpu.yaml --eval DIR

Model size was chosen by measurement (``measure``: optimizer steps on random tokens, batch
8 x 384, per size and thread count); the numbers are in the model card.
"""
from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from training.common import (head_weighted_loss, quiet_libraries, recorded_minutes, steps_marker,
                             time_budget_callback, write_summary)

logger = logging.getLogger(__name__)


@dataclass
class DemoArguments:
    """Data, model size and budget of the demo-cpu run (trainer and model blocks are trl's)."""

    data_families: list[str] = field(default_factory=list, metadata={
        "help": "FAMILY:PROBLEMS for the `data` step; generation stops early where a generator runs out "
                "of distinct problems"})
    heldout_family: str = field(default="bernoulli", metadata={"help": "never trained on: its own split"})
    generation_seed: int = field(default=1)
    validation_fraction: float = field(default=0.06)
    test_fraction: float = field(default=0.06)
    data_parts: str = field(default="runs/demo-cpu/data/parts")
    dataset_path: str = field(default="runs/demo-cpu/data/merged")
    train_split: str = field(default="train")
    eval_split: str = field(default="validation")
    hidden_size: int = field(default=192)
    intermediate_size: int = field(default=512)
    num_hidden_layers: int = field(default=6)
    num_attention_heads: int = field(default=6)
    num_key_value_heads: int = field(default=2)
    vocab_size: int = field(default=2048, metadata={"help": "BPE vocabulary trained on the train split"})
    max_minutes: float | None = field(default=None, metadata={"help": "stop (and save) after this many minutes"})
    head_loss_weight: float = field(default=1.0, metadata={
        "help": "weight of the reply's Classification and Hint tokens (before '## Steps') in the loss; "
                "1 is the plain token mean. Those sections are ~12% of the reply tokens."})
    oversample: list[str] = field(default_factory=list, metadata={
        "help": "FAMILY:TIMES, e.g. reduction_of_order:2: that family's training examples appear TIMES "
                "times per epoch (train split only; validation and test are untouched)"})
    torch_num_threads: int | None = field(default=1)
    export_dir: str = field(default="assets/models/demo-cpu")


def make_parser():
    from trl import ModelConfig, SFTConfig, TrlParser

    return TrlParser((DemoArguments, SFTConfig, ModelConfig))


# --------------------------------------------------------------------------- data

def family_counts(specs: list[str], option: str, default: int | None = None) -> list[tuple[str, int]]:
    """``FAMILY:N`` recipe entries (``data_families``, ``oversample``) as (family, N), N >= 1; a
    missing N is ``default`` (an error when there is none)."""
    pairs = []
    for spec in specs:
        family, _, count = spec.partition(":")
        try:
            n = int(count) if count else default
        except ValueError:
            n = None
        if not family or n is None or n < 1:
            raise SystemExit(f"{option}: {spec!r} is not FAMILY:N with N >= 1")
        pairs.append((family, n))
    return pairs


def generate_data(args: DemoArguments) -> Path:
    """``training.data`` once per family of ``data_families`` into ``data_parts``, then :func:`merge`.

    One folder per family, so a family can be regenerated alone (a widened generator) and an
    interrupted run keeps the families it finished (finished folders are skipped; delete one
    to regenerate it).
    """
    from training.data import DataConfig, build, save

    if not args.data_families:
        raise SystemExit("the recipe names no data_families (FAMILY:PROBLEMS)")
    for family, count in family_counts(args.data_families, "data_families", default=100):
        out = Path(args.data_parts) / family
        if (out / "stats.json").is_file():
            logger.info("%s: already generated (%s), kept", family, out)
            continue
        held = family == args.heldout_family
        config = DataConfig(out=str(out), per_family=count, families=[family],
                            heldout_family=family if held else None, seed=args.generation_seed,
                            validation_fraction=args.validation_fraction, test_fraction=args.test_fraction)
        rows, stats = build(config)
        save(rows, stats, config)
        logger.info("%s: %d problems in %.0f s", family, stats["problems"], stats["seconds"])
    return merge(args.data_parts, args.dataset_path)


# --------------------------------------------------------------------------- merge

def merge(parts: str | Path, out: str | Path) -> Path:
    """Concatenate per-family dataset folders (``training.data`` outputs) split by split."""
    from datasets import DatasetDict, concatenate_datasets

    from training.data import SPLITS, load

    folders = sorted(p for p in Path(parts).iterdir() if (p / "stats.json").is_file())
    if not folders:
        raise SystemExit(f"no finished training.data folders under {parts}")
    loaded = [load(p) for p in folders]
    merged = DatasetDict({s: concatenate_datasets([d[s] for d in loaded if s in d]) for s in SPLITS
                          if any(s in d for d in loaded)})
    out = Path(out)
    merged.save_to_disk(str(out / "dataset"))
    part_stats = [json.loads((p / "stats.json").read_text(encoding="utf-8")) for p in folders]
    heldout = next((s["config"]["heldout_family"] for s in part_stats if s["config"].get("heldout_family")), None)
    stats = {"parts": [p.name for p in folders], "counts": {s: len(d) for s, d in merged.items()},
             "generation_seconds": round(sum(s["seconds"] for s in part_stats), 1),
             "problems": sum(s["problems"] for s in part_stats),
             "families": {k: v for s in part_stats for k, v in s["families"].items()},
             "config": {"heldout_family": heldout}}  # what training.evaluate reads
    (out / "stats.json").write_text(json.dumps(stats, indent=2), encoding="utf-8")
    return out


# --------------------------------------------------------------------------- init

def init(args: DemoArguments, model_path: str) -> Path:
    """Train the tokenizer on the train split and save a randomly initialized model of the recipe's size."""
    from training.data import load
    from training.tiny_model import build_tokenizer

    train = load(args.dataset_path)[args.train_split]
    texts = [m["content"] for row in train["messages"] for m in row]
    texts = list(dict.fromkeys(texts))  # the system prompt once, not once per row
    tokenizer = build_tokenizer(texts, vocab_size=args.vocab_size)
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=args.hidden_size, intermediate_size=args.intermediate_size,
        num_hidden_layers=args.num_hidden_layers, num_attention_heads=args.num_attention_heads,
        num_key_value_heads=args.num_key_value_heads, max_position_embeddings=2048,
        tie_word_embeddings=True,  # halves the embedding weights of a small-vocabulary model
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    lengths = [len(tokenizer.apply_chat_template(row, tokenize=True, return_dict=True)["input_ids"])
               for row in train["messages"]]
    replies = [len(tokenizer(row[-1]["content"])["input_ids"]) for row in train["messages"]]
    # Room for the longest training reply and a quarter more: a cut-off reply has no Final Answer.
    max_new_tokens = min(-(-int(1.25 * max(replies)) // 64) * 64, 2048)
    model.generation_config = GenerationConfig(  # greedy: the tutor's default; the profile may sample
        do_sample=False, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, max_new_tokens=max_new_tokens)
    out = Path(model_path)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
    info = {"parameters": model.num_parameters(), "vocab": len(tokenizer), "train_rows": len(train),
            "train_tokens": sum(lengths), "max_tokens": max(lengths), "mean_tokens": sum(lengths) / len(lengths),
            "max_reply_tokens": max(replies), "max_new_tokens": max_new_tokens}
    (out / "init.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return out


# --------------------------------------------------------------------------- train

#: Written into every checkpoint folder: the wall-clock minutes that produced it (all sessions).
def oversampled(rows, specs: list[str]):
    """``rows`` plus TIMES - 1 more copies of each ``FAMILY:TIMES`` family's examples (appended; the
    trainer's sampler mixes them). Unknown families and TIMES < 1 are errors, not silent no-ops."""
    from datasets import concatenate_datasets

    present = set(rows["family"])
    extra = []
    for family, times in family_counts(specs, "oversample"):
        if family not in present:
            raise SystemExit(f"oversample: no training examples of family {family!r} (have {sorted(present)})")
        extra += [rows.filter(lambda r: r["family"] == family)] * (times - 1)
    return concatenate_datasets([rows, *extra]) if extra else rows


def train(args: DemoArguments, training_args, model_args) -> dict:
    """SFTTrainer on the full model; resumes from the newest checkpoint; writes run_summary.json."""
    quiet_libraries()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.trainer_utils import get_last_checkpoint
    from trl import SFTTrainer

    from training.data import load

    if args.torch_num_threads:
        torch.set_num_threads(args.torch_num_threads)
    dataset = load(args.dataset_path)
    keep = ["messages"]
    train_rows = oversampled(dataset[args.train_split], args.oversample).select_columns(keep)
    eval_rows = dataset[args.eval_split].select_columns(keep) if args.eval_split in dataset else None
    tokenizer = AutoTokenizer.from_pretrained(model_args.model_name_or_path)
    model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, dtype=torch.float32)
    model.config.use_cache = False
    out = Path(training_args.output_dir)
    last = get_last_checkpoint(str(out)) if out.is_dir() else None
    summary_path = out / "run_summary.json"
    previous = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    already = 0.0
    if last:  # the checkpoint's own record; older runs only have the end-of-run summary's
        recorded = recorded_minutes(last)
        already = recorded if recorded is not None else float(previous.get("minutes_total", 0.0))
    budget = time_budget_callback(args.max_minutes, already)  # one clock for the budget and the summary
    callbacks = [budget]
    trainer_class = SFTTrainer
    if args.head_loss_weight != 1.0:
        loss_func = head_weighted_loss(steps_marker(tokenizer), args.head_loss_weight)

        class HeadWeightedSFTTrainer(SFTTrainer):
            """One forward with full logits, then the weighted loss (trl's own metrics are skipped).

            The validation loss is weighted the same way, so checkpoints are chosen by it too.
            """

            def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
                outputs = model(**{k: v for k, v in inputs.items() if k != "labels"}, use_cache=False)
                loss = loss_func(outputs, inputs["labels"])
                return (loss, outputs) if return_outputs else loss

        trainer_class = HeadWeightedSFTTrainer
    trainer = trainer_class(model=model, args=training_args, train_dataset=train_rows, eval_dataset=eval_rows,
                            processing_class=tokenizer, callbacks=callbacks)
    trainer.train(resume_from_checkpoint=last)
    minutes_total = budget.used()
    trainer.save_model(str(out / "final"))
    tokenizer.save_pretrained(str(out / "final"))
    history = trainer.state.log_history
    summary = {
        "stage": "demo-cpu (full-parameter, from scratch)",
        "init_model": model_args.model_name_or_path,
        "parameters": model.num_parameters(),
        "train_rows": len(train_rows), "eval_rows": len(eval_rows) if eval_rows is not None else 0,
        "steps": trainer.state.global_step, "max_steps": training_args.max_steps,
        "seconds_this_session": round((minutes_total - already) * 60, 1),
        "minutes_total": round(minutes_total, 4),
        "torch_threads": torch.get_num_threads(),
        "head_loss_weight": args.head_loss_weight,
        "oversample": list(args.oversample),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "best_eval_loss": trainer.state.best_metric,
        "eval_losses": [(h["step"], round(h["eval_loss"], 4)) for h in history if "eval_loss" in h],
        "train_losses": [(h["step"], round(h["loss"], 4)) for h in history if "loss" in h],
        "resumed_from": last,
    }
    write_summary(out, summary)
    return summary


def summary_from_checkpoints(args: DemoArguments, training_args, minutes: float | None = None) -> dict:
    """run_summary.json for a run stopped by hand (a deadline) after a saved checkpoint.

    The newest checkpoint's ``trainer_state.json`` has the losses and the best checkpoint so
    far; ``minutes`` is the wall-clock time from launch to that checkpoint: by default the
    minutes recorded in the checkpoint, else measured outside.
    """
    from transformers.trainer_utils import get_last_checkpoint

    out = Path(training_args.output_dir)
    last = get_last_checkpoint(str(out))
    if last is None:
        raise SystemExit(f"no checkpoint in {out}")
    if minutes is None:
        minutes = recorded_minutes(last)
        if minutes is None:
            raise SystemExit(f"{last} records no minutes (an older run): pass --minutes M")
    state = json.loads((Path(last) / "trainer_state.json").read_text(encoding="utf-8"))
    from safetensors.torch import load_file

    parameters = sum(t.numel() for t in load_file(str(Path(last) / "model.safetensors")).values())
    from training.data import load

    dataset = load(args.dataset_path)
    history = state["log_history"]
    summary = {
        "stage": "demo-cpu (full-parameter, from scratch)",
        "init_model": str(Path(last).parent.parent / "init"),
        "parameters": parameters,
        "train_rows": len(dataset[args.train_split]), "eval_rows": len(dataset[args.eval_split]),
        "steps": state["global_step"], "max_steps": state["max_steps"],
        "stopped": f"by hand after the checkpoint at step {state['global_step']} (deadline)",
        "minutes_total": round(minutes, 2),
        "torch_threads": args.torch_num_threads,
        "best_checkpoint": state["best_model_checkpoint"],
        "best_eval_loss": state["best_metric"],
        "eval_losses": [(h["step"], round(h["eval_loss"], 4)) for h in history if "eval_loss" in h],
        "train_losses": [(h["step"], round(h["loss"], 4)) for h in history if "loss" in h],
    }
    write_summary(out, summary)
    return summary


# --------------------------------------------------------------------------- export

def export(args: DemoArguments, training_args, model_args) -> Path:
    """Copy the lowest-validation-loss checkpoint (weights, config, tokenizer) to ``export_dir``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out_dir = Path(training_args.output_dir)
    summary = json.loads((out_dir / "run_summary.json").read_text())
    source = summary.get("best_checkpoint") or str(out_dir / "final")
    model = AutoModelForCausalLM.from_pretrained(source)
    tokenizer = AutoTokenizer.from_pretrained(model_args.model_name_or_path)
    model.config.use_cache = True
    target = Path(args.export_dir)
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*.safetensors"):
        stale.unlink()
    model.save_pretrained(target, safe_serialization=True)
    tokenizer.save_pretrained(target)
    shutil.copy(out_dir / "run_summary.json", target / "training_summary.json")
    return target


# --------------------------------------------------------------------------- evaluation in parallel

# --------------------------------------------------------------------------- model card

#: Measured before choosing the size (``measure``: AdamW steps on random tokens, batch 8 x 640,
#: 1 thread, the shared 2-core machine with a data-generation job running).
SIZE_MEASUREMENT = """| size (hidden, intermediate, layers) | parameters | seconds per step, 1 thread |
|---|---|---|
| 128, 384, 6 | 1.44M | 2.41 s (2127 tok/s) |
| 192, 512, 4 (shipped) | 1.97M | 2.15 s (2383 tok/s) |
| 192, 512, 6 | 2.76M | 4.19 s (1223 tok/s) |

Measured with `python -m training.demo_cpu measure` (AdamW steps on random tokens, batch 8 x 640,
vocabulary 2048) while a data generation job shared the 2 cores, so the figures are rough; the wider 4-layer model was no
slower than the narrow 6-layer one, and six 192-wide layers would have halved the epochs that
fit the budget. (The first demo-cpu, 128 x 6 layers on 684 examples, reached 23.7% test
classification.) One torch thread: two threads were 3x slower when another job shared the
cores."""


def card(args: DemoArguments, training_args, model_args, eval_dir: str) -> Path:
    """README.md of the exported model: recipe, data, training, hardware, measured accuracy."""
    target = Path(args.export_dir)
    summary = json.loads((target / "training_summary.json").read_text(encoding="utf-8"))
    init_info = json.loads((Path(model_args.model_name_or_path) / "init.json").read_text(encoding="utf-8"))
    data_stats_file = Path(args.dataset_path) / "stats.json"
    data_stats = json.loads(data_stats_file.read_text(encoding="utf-8"))
    evaluation = json.loads((Path(eval_dir) / "eval.json").read_text(encoding="utf-8"))
    report = (Path(eval_dir) / "report.md").read_text(encoding="utf-8")
    tables = report.split("## Overall", 1)[1].split("![accuracy", 1)[0].replace("\n## ", "\n#### ")
    config = json.loads((target / "config.json").read_text(encoding="utf-8"))
    generation = json.loads((target / "generation_config.json").read_text(encoding="utf-8"))
    for name in ("eval.json", "report.md", "accuracy.png"):  # the app's About tab reads eval.json
        source = Path(eval_dir) / name
        if source.is_file() and source.resolve() != (target / name).resolve():
            shutil.copy(source, target / name)
    card_path = target / "README.md"
    # Hand-written notes on a run (what went wrong, what to try next) survive a regenerated card.
    old_card = card_path.read_text(encoding="utf-8") if card_path.is_file() else ""
    notes = old_card[old_card.index(NOTES_HEADING):] if NOTES_HEADING in old_card else ""
    size_mb = sum(p.stat().st_size for p in target.iterdir() if p.is_file()) / 1e6
    counts = data_stats["counts"]
    o = evaluation["summary"]["overall"]
    test = evaluation["summary"]["splits"].get("test", o)
    per_family = evaluation["config"].get("per_family")
    per_family_note = f": the first {per_family} of each family, in the split's hash order" if per_family else ""
    pct = lambda x: "–" if x is None else f"{100 * x:.1f}%"  # noqa: E731
    weight = float(summary.get("head_loss_weight", 1.0))
    weighting = (f" (the Classification and Hint tokens counted {weight:g} times: `head_loss_weight`; the"
                 f" validation losses below are weighted the same way)" if weight != 1.0 else "")
    if summary.get("oversample"):
        weighting += (f"; training examples of {', '.join(f'`{s}`' for s in summary['oversample'])} repeated"
                      f" that many times per epoch (`oversample`: {summary['train_rows']:,} training rows)")
    text = f"""---
license: apache-2.0
library_name: transformers
pipeline_tag: text-generation
tags: [ode, tutor, llama, from-scratch, cpu]
---

# demo-cpu: the ODE Tutor's embedded model

A {summary['parameters'] / 1e6:.2f}M-parameter Llama-architecture model trained **from scratch** (random
initialization, no pretrained base, no download) on 2 CPU cores, to write the tutor format:
`## Classification`, `## Hint`, `## Steps`, `## Final Answer`. The app loads it in 4-bit NF4
(profile `demo-cpu`, its default model when no other model is configured); every final answer
is checked by the project's verifier, and when it is not `correct` the symbolic engine's verified
solution is shown instead, labelled. Treat it as a demonstration of the pipeline, not as a solver:
read the figures below.

## Test-split results (held-out problems of the {len([f for f in data_stats['families'] if f != data_stats['config'].get('heldout_family')])} trained families)

| measure | goal | reached |
|---|---|---|
| classification (order, linearity and type all right) | >= 90% | **{pct(test['classification_all'])}** |
| hint names the method | >= 90% | **{pct(test['hint_ok'])}** |
| verified pass@1 (greedy) | >= 30% | **{pct(test['pass1'])}** |
| verified best-of-{evaluation['info']['k']} (pass@{evaluation['info']['k']}, T = {evaluation['config']['temperature']}) | – | **{pct(test['passk'])}** |
| time to first text piece, CPU, 4-bit, 1 thread (mean) | < 1 s | **{evaluation['summary']['speed']['first_piece_s']} s** |

Measured with `python -m training.evaluate --profile demo-cpu` (NF4 4-bit on CPU, exactly as the
app runs it) on the `test` split ({test['n']} examples{per_family_note}) and the held-out family
`{data_stats['config'].get('heldout_family')}` (split `heldout`, never trained on). The test split was
not used for any choice: training settings were compared on the `validation` split, and the
checkpoint was selected by validation loss.

### All tables (from the evaluation report)
{tables.rstrip()}

`eval.json` (next to this card) holds every reply and verdict; the app's About tab reads it.

## Model

- `LlamaForCausalLM`: hidden {config['hidden_size']}, intermediate {config['intermediate_size']},
  {config['num_hidden_layers']} layers, {config['num_attention_heads']} heads ({config['num_key_value_heads']} key/value heads),
  tied embeddings, vocabulary {config['vocab_size']}, context 2048; {summary['parameters']:,} parameters.
- Tokenizer: byte-level BPE trained on the train split's text (`training.tiny_model.build_tokenizer`,
  requested 2048, {init_info['vocab']} learned), the tutor chat template (`<|system|>`, `<|user|>`,
  `<|assistant|>`, with `{{% generation %}}` markers for the assistant-only loss).
- Files: fp32 safetensors + config + generation_config (greedy, {generation.get('max_new_tokens')} new tokens) + tokenizer;
  {size_mb:.1f} MB in this folder.

## Data

`python -m training.data` per family (the engine's generators; every target verified by the
checker), merged by `python -m training.demo_cpu merge`: {data_stats['problems']} problems,
{sum(counts.values())} examples (each problem as plain text and as LaTeX) — train {counts.get('train', 0)},
validation {counts.get('validation', 0)}, test {counts.get('test', 0)}, held-out family {counts.get('heldout', 0)}.
Generation: {data_stats['generation_seconds'] / 60:.0f} minutes summed over the per-family runs (two ran at a time). Train tokens:
{init_info['train_tokens']:,} (mean {init_info['mean_tokens']:.0f} per example, system prompt included).

| family | problems kept (tried) |
|---|---|
""" + "\n".join(f"| {f} | {v['kept']} ({v['tried']}) |" for f, v in sorted(data_stats["families"].items())) + f"""

## Training

`training/recipes/pretrain/demo-cpu.yaml` through `python -m training.demo_cpu` (trl `SFTTrainer`,
full-parameter, fp32): AdamW, lr {training_args.learning_rate} cosine, warmup {training_args.warmup_steps},
batch {training_args.per_device_train_batch_size}, length-grouped batches, loss on the assistant reply only{weighting},
validation loss every {training_args.eval_steps} steps, best checkpoint kept.

- steps: {summary['steps']} of {summary['max_steps']} planned ({summary['steps'] * training_args.per_device_train_batch_size / summary['train_rows']:.1f} epochs);
  wall-clock {summary['minutes_total']:.1f} min (budget {args.max_minutes} min)
- hardware: 2 shared CPU cores (other jobs running), {summary['torch_threads']} torch thread, no GPU
- best checkpoint: `{Path(summary['best_checkpoint'] or 'final').name}`, validation loss {summary['best_eval_loss']:.4f}
- validation loss by step: {', '.join(f"{step}: {loss}" for step, loss in summary['eval_losses'])}

### Choosing the size

{SIZE_MEASUREMENT}

## Reproduce / resume

```bash
R=training/recipes/pretrain/demo-cpu.yaml
python -m training.demo_cpu data   --config $R   # training.data per family of data_families, merged
python -m training.demo_cpu init   --config $R   # tokenizer + randomly initialized model
python -m training.demo_cpu train  --config $R   # resumes from the last checkpoint
python -m training.demo_cpu export --config $R
# evaluation, one process per core, then one report
for i in 0 1; do python -m training.evaluate --profile demo-cpu --data runs/demo-cpu/data/merged \\
    --per-family {evaluation['config'].get('per_family') or 'N'} --shard $i/2 --out runs/eval/demo-cpu-$i --torch-threads 1 & done; wait
python -m training.evaluate combine --out runs/eval/demo-cpu runs/eval/demo-cpu-0 runs/eval/demo-cpu-1
python -m training.demo_cpu card --config $R --eval runs/eval/demo-cpu
```

`train` resumes from the newest checkpoint in `runs/demo-cpu/train/` and counts the minutes of
earlier sessions against `max_minutes`; raise `max_minutes` / `max_steps` to train longer.
"""
    card_path.write_text(text + ("\n" + notes if notes else ""), encoding="utf-8")
    return card_path


#: Everything from this heading on in an existing card is kept by :func:`card`.
NOTES_HEADING = "## Honest notes"


# --------------------------------------------------------------------------- measure

def measure(threads: list[int], batch: int = 8, length: int = 640, vocab: int = 2048) -> list[dict]:
    """Seconds per optimizer step on random tokens for a few sizes: what fits the time budget."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    # (hidden, intermediate, layers, heads, key/value heads)
    sizes = {"1.4M": (128, 384, 6, 4, 2), "2M": (192, 512, 4, 6, 2), "2.8M": (192, 512, 6, 6, 2)}
    rows = []
    for n in threads:
        torch.set_num_threads(n)
        for name, (h, i, layers, heads, kv) in sizes.items():
            config = LlamaConfig(vocab_size=vocab, hidden_size=h, intermediate_size=i, num_hidden_layers=layers,
                                 num_attention_heads=heads, num_key_value_heads=kv, tie_word_embeddings=True)
            model = LlamaForCausalLM(config)
            optimizer = torch.optim.AdamW(model.parameters(), 1e-3)
            x = torch.randint(0, vocab, (batch, length))
            times = []
            for _ in range(3):
                t = time.perf_counter()
                model(input_ids=x, labels=x).loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                times.append(time.perf_counter() - t)
            best = min(times[1:])
            rows.append({"threads": n, "size": name, "parameters": model.num_parameters(),
                         "seconds_per_step": round(best, 2), "tokens_per_second": round(batch * length / best)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv else "help"
    if command == "merge":
        import argparse

        p = argparse.ArgumentParser(prog="python -m training.demo_cpu merge")
        p.add_argument("--parts", required=True)
        p.add_argument("--out", required=True)
        a = p.parse_args(argv)
        print(f"merged into {merge(a.parts, a.out)}")
        return 0
    if command == "measure":
        measure([1, 2])
        return 0
    if command == "card":
        eval_dir = "runs/eval/demo-cpu"
        if "--eval" in argv:
            i = argv.index("--eval")
            eval_dir = argv[i + 1]
            del argv[i:i + 2]
        args, training_args, model_args = make_parser().parse_args_and_config(argv)
        print(f"wrote {card(args, training_args, model_args, eval_dir)}")
        return 0
    if command == "combine":  # combine --out DIR EVAL_DIR...
        from training.evaluate import combine

        i = argv.index("--out")
        out = argv[i + 1]
        del argv[i:i + 2]
        print(f"combined into {combine(argv, out)}")
        return 0
    if command == "summarize":  # after stopping a run by hand; --minutes M for checkpoints without a record
        minutes = None
        if "--minutes" in argv:
            i = argv.index("--minutes")
            minutes = float(argv[i + 1])
            del argv[i:i + 2]
        args, training_args, _ = make_parser().parse_args_and_config(argv)
        summary = summary_from_checkpoints(args, training_args, minutes)
        print(f"summary: step {summary['steps']}, best {summary['best_checkpoint']} ({summary['best_eval_loss']})")
        return 0
    if command not in ("data", "init", "train", "export", "all"):
        print(__doc__)
        return 0 if command == "help" else 2
    args, training_args, model_args = make_parser().parse_args_and_config(argv)
    if command in ("data", "all"):
        print(f"data in {generate_data(args)}")
    if command in ("init", "all"):
        print(f"initialized {init(args, model_args.model_name_or_path)}")
    if command in ("train", "all"):
        summary = train(args, training_args, model_args)
        print(f"trained {summary['steps']} steps, {summary['minutes_total']} min in all, "
              f"best eval loss {summary['best_eval_loss']}")
    if command in ("export", "all"):
        print(f"exported to {export(args, training_args, model_args)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
