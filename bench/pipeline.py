"""Throughput of the training pipeline's stages, one process vs the fan-out, in the same run (issue 19).

* **data generation** (problems/s): ``training.data.build`` with one pipeline (``--jobs 1``) vs
  ``workers`` on this machine's pool vs ``workers`` Ray tasks;
* **verification** (checks/s): the checker on the same answers (the data's verified answers and
  as many wrong ones), one at a time vs the pool vs Ray;
* **LbT scoring** (rationales/s): ``training.lbt`` against ``transformers serve`` with a tiny
  random model, concurrency 1 vs 8 (the server's own batching is what concurrency can buy).

Ray's start-up (``ray.init`` and its first tasks) is timed apart and left out of its rate.  Run on
an otherwise idle machine; prints a table and writes JSON::

    python bench/pipeline.py                       # ~6 min on 2 cores
    python bench/pipeline.py --problems 4 --checks 16 --lbt-problems 2 --out /tmp/pipeline.json
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from serving import transformers_serve  # noqa: E402  (test support: start a local server)

FAMILIES = ["separable", "first_order_linear", "exact", "constant_coefficients"]


def bench_data(problems: int, workers: int, tmp: Path) -> dict:
    from training.data import DataConfig, build

    out = {}
    for name, jobs, executor in (("1 process", 1, "local"), (f"pool x{workers}", workers, "local"),
                                 (f"ray x{workers}", workers, "ray")):
        config = DataConfig(out=str(tmp / f"data-{jobs}-{executor}"), per_family=problems, families=FAMILIES,
                            heldout_family=None, jobs=jobs, executor=executor, progress=False)
        started = time.perf_counter()
        rows, stats = build(config)
        seconds = time.perf_counter() - started
        out[name] = {"problems": stats["problems"], "seconds": round(seconds, 2),
                     "per_second": round(stats["problems"] / seconds, 3)}
        out.setdefault("rows", (rows, stats))
    return out


def bench_checks(rows: list[dict], checks: int, workers: int) -> dict:
    from training.fanout import verify_many
    from tutor.format import answer_text
    from tutor.parser import parse

    items = []
    for row in rows:
        problem = parse(row["problem"])
        items.append((problem, answer_text(row["answer"]), 20.0))
        items.append((problem, "y = 3 x + 7", 20.0))
    items = (items * (checks // max(1, len(items)) + 1))[:checks]
    out, verdicts = {}, {}
    for name, executor, n in (("1 process", "local", 1), (f"pool x{workers}", "local", workers),
                              (f"ray x{workers}", "ray", workers)):
        started = time.perf_counter()
        verdicts[name] = verify_many(items, executor=executor, workers=n)
        seconds = time.perf_counter() - started
        out[name] = {"checks": len(items), "seconds": round(seconds, 2), "per_second": round(len(items) / seconds, 3)}
    out["same verdicts"] = len({tuple(v) for v in verdicts.values()}) == 1
    return out


def bench_lbt(data_dir: Path, problems: int, tmp: Path) -> dict:
    from training import lbt
    from training.tiny_model import build

    model = build(tmp / "tiny", "tiny", seed=0)
    out = {}
    with transformers_serve(model, threads=1) as url:
        for concurrency in (1, 8):
            config = lbt.LbTConfig(data=str(data_dir), out=str(tmp / f"lbt-{concurrency}"), base_model="served",
                                   server=url, k=4, exam_size=1, m=1, max_problems=problems, max_new_tokens=48,
                                   variant_search=4, concurrency=concurrency, executor="local", progress=False)
            started = time.perf_counter()
            stats = lbt.run(config)
            seconds = time.perf_counter() - started
            rationales = sum(v for k, v in stats["candidates"].items() if k.startswith("teacher"))
            out[f"concurrency {concurrency}"] = {"rationales": rationales, "seconds": round(seconds, 2),
                                                 "per_second": round(rationales / seconds, 3)}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--problems", type=int, default=6, help="problems per family for the data stage")
    p.add_argument("--checks", type=int, default=48)
    p.add_argument("--lbt-problems", type=int, default=4)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import ray

    from training.data import DataConfig, save
    from training.fanout import start_ray

    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        start_ray(a.workers)
        from training.fanout import fan_out, verify_item

        fan_out(verify_item, [("y' = y", "y = e^x", 10.0)] * a.workers, executor="ray", workers=a.workers)
        result["ray start-up (s)"] = round(time.perf_counter() - started, 1)
        data = bench_data(a.problems, a.workers, tmp)
        rows, stats = data.pop("rows")
        result["data generation (problems/s)"] = data
        result["verification (checks/s)"] = bench_checks(rows, a.checks, a.workers)
        ray.shutdown()
        config = DataConfig(out=str(tmp / "lbt-data"), per_family=a.problems, families=FAMILIES, heldout_family=None)
        save([{**row, "split": "train"} for row in rows], stats, config)
        result["LbT scoring (rationales/s), transformers serve, tiny model"] = bench_lbt(tmp / "lbt-data",
                                                                                        a.lbt_problems, tmp)
    for stage, figures in result.items():
        if not isinstance(figures, dict):
            print(f"{stage}: {figures}")
            continue
        print(stage)
        base = next(iter(figures.values()))["per_second"]
        for name, f in figures.items():
            if isinstance(f, dict):
                print(f"  {name:>16}: {f['per_second']:8.3f}/s  ({f['seconds']} s)  x{f['per_second'] / base:.2f}")
            else:
                print(f"  {name:>16}: {f}")
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
