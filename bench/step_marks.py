"""How the per-step ticks and crosses (tutor/model_steps.py) behave on real text, per family.

Two inputs, either or both:

* ``--data DIR --split S``: the engine's own verified derivations, as the model is trained to
  write them (a ``training.data`` output's JSONL targets, plain or tools format). Every relation
  there is true, so every cross is a false alarm: the figure to keep at 0.
* ``--eval DIR``: a ``training.evaluate`` report (its greedy replies): how many steps a model's
  reply states checkably, and how many of those hold.

Prints steps, checked, holding, crossed and the seconds spent checking, per family and in all.

    python bench/step_marks.py --data runs/smollm2/data --split validation
    python bench/step_marks.py --eval assets/models/smollm2-ode-tools
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutor.format import parse_sections  # noqa: E402
from tutor.model_steps import WRONG, check_model_steps  # noqa: E402
from tutor.parser import parse  # noqa: E402


def _rows_from_data(data: Path, split: str, limit: int | None) -> list[tuple[str, str, str, str]]:
    out = []
    path = data / "jsonl" / f"{split}.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        out.append((row["id"], row["family"], row["problem"], row["completion"][0]["content"]))
    return out[:limit] if limit else out


def _rows_from_eval(eval_dir: Path, limit: int | None) -> list[tuple[str, str, str, str]]:
    report = json.loads((eval_dir / "eval.json").read_text(encoding="utf-8"))
    out = [(r["id"], r["family"], r["problem"], r["greedy"]) for r in report["records"]]
    return out[:limit] if limit else out


def measure(rows, show_wrong: int = 5) -> dict:
    """Counts per family and overall; a few crossed steps, for reading."""
    from tutor.letters import canonical_view

    families: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    crossed = []
    for rid, family, problem_text, reply in rows:
        problem = parse(problem_text)
        view = canonical_view(problem)  # the model writes (and the targets are) in y(x)
        checked_against = view.canonical if view is not None else problem
        steps = parse_sections(reply, done=True).steps
        started = time.perf_counter()
        marks = check_model_steps(checked_against, steps)
        f = families[family]
        f["replies"] += 1
        f["steps"] += len(marks)
        f["checked"] += sum(m.checked for m in marks)
        f["holding"] += sum(m.status == "holds" for m in marks)
        f["wrong"] += sum(m.status == WRONG for m in marks)
        f["seconds"] += time.perf_counter() - started
        for n, m in enumerate(marks, 1):
            if m.status == WRONG and len(crossed) < show_wrong:
                crossed.append({"id": rid, "step": n, "relation": m.relation, "reason": m.reason[:160]})
    total = defaultdict(float)
    for f in families.values():
        for k, v in f.items():
            total[k] += v
    return {"families": {k: dict(v) for k, v in sorted(families.items())}, "all": dict(total), "crossed": crossed}


def _table(result: dict) -> str:
    lines = ["| family | replies | steps | checked | hold | crossed | s per reply |", "|---|---|---|---|---|---|---|"]
    for name, f in [*result["families"].items(), ("all", result["all"])]:
        lines.append(f"| {name} | {f['replies']:.0f} | {f['steps']:.0f} | {f['checked']:.0f} | {f['holding']:.0f} | "
                     f"{f['wrong']:.0f} | {f['seconds'] / max(1, f['replies']):.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="a training.data output (its jsonl/ targets)")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--eval", type=Path, help="a training.evaluate output (its eval.json)")
    parser.add_argument("--limit", type=int, help="at most this many replies per input")
    args = parser.parse_args(argv)
    if not args.data and not args.eval:
        parser.error("give --data and/or --eval")
    if args.data:
        result = measure(_rows_from_data(args.data, args.split, args.limit))
        print(f"## The engine's own targets ({args.data}, {args.split}): every cross is a false alarm\n")
        print(_table(result))
        for c in result["crossed"]:
            print(f"- crossed: {c}")
    if args.eval:
        result = measure(_rows_from_eval(args.eval, args.limit))
        print(f"\n## A model's greedy replies ({args.eval})\n")
        print(_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
