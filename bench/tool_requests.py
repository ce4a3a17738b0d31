"""How a tools model's requests went (issue 14): from a ``training.evaluate`` report of a tools
profile and the dataset it was run on.

For every evaluated reply: the requests it made, how many SymPy answered (not ``<<= ? ...>>``), and
how many equal the request the engine's derivation makes at that point (the training target's
requests, in order, compared after removing spaces). Prints the totals and a per-family table.

    python bench/tool_requests.py --eval runs/eval/smollm2-ode-tools --data runs/smollm2/tools-d1
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from tutor.tools import Request, requests_in


def _key(request) -> str:
    return "".join(request.text.split()) if isinstance(request, Request) else "?"


def summarize(eval_dir: str | Path, data: str | Path) -> dict:
    report = json.loads((Path(eval_dir) / "eval.json").read_text(encoding="utf-8"))
    targets = {}
    for path in (Path(data) / "jsonl").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            targets[row["id"]] = row["completion"][0]["content"]
    per_family: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for rec in report["records"]:
        made = requests_in(rec["greedy"])
        wanted = [_key(r) for r, _ in requests_in(targets.get(rec["id"], ""))]
        f = per_family[rec["family"]]
        f["replies"] += 1
        f["with_request"] += bool(made)
        f["requests"] += len(made)
        f["answered"] += sum(1 for _, a in made if a is not None and not a.startswith("?"))
        f["target_requests"] += len(wanted)
        f["as_target"] += sum(1 for (r, _), w in zip(made, wanted) if _key(r) == w)
        f["pass1"] += bool(rec["pass1"])
        f["tokens"] += rec.get("tokens") or 0
        f["seconds"] += rec.get("seconds") or 0.0
    total: dict[str, float] = defaultdict(float)
    for f in per_family.values():
        for k, v in f.items():
            total[k] += v
    return {"total": dict(total), "families": {k: dict(v) for k, v in sorted(per_family.items())}}


def _pct(a: float, b: float) -> str:
    return f"{100 * a / b:.1f}%" if b else "–"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--eval", required=True)
    p.add_argument("--data", required=True)
    a = p.parse_args()
    s = summarize(a.eval, a.data)
    t = s["total"]
    print(f"replies {int(t['replies'])}, with a request {int(t['with_request'])}; requests {int(t['requests'])}, "
          f"answered by SymPy {_pct(t['answered'], t['requests'])}, equal to the engine's request at that place "
          f"{_pct(t['as_target'], t['target_requests'])} (of {int(t['target_requests'])} in the targets); "
          f"tokens per reply {t['tokens'] / max(t['replies'], 1):.0f}, seconds per reply {t['seconds'] / max(t['replies'], 1):.1f}")
    print("| family | replies | requests | answered | as the engine's | pass@1 |")
    print("|---|---|---|---|---|---|")
    for name, f in s["families"].items():
        print(f"| {name} | {f['replies']} | {f['requests']} | {_pct(f['answered'], f['requests'])} | "
              f"{_pct(f['as_target'], f['target_requests'])} | {_pct(f['pass1'], f['replies'])} |")


if __name__ == "__main__":
    main()
