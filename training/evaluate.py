"""Evaluate a model profile (or the symbolic engine) on the tutor data, every answer by the checker.

For each example of the chosen splits (default ``test`` and ``heldout``):

* **pass@1** — one greedy reply; its Final Answer is judged by :func:`tutor.checker.check`
  against the problem parsed from the example's text;
* **pass@k / verified best-of-n** — ``k`` sampled replies; solved when any of them is
  ``correct`` (the app shows the first verified candidate, so best-of-n with the checker as the
  verifier *is* pass@k);
* **classification** — the Classification section's order, linearity and type (the family's
  method named among the methods that apply) against the engine's facts stored with the example;
* **hint** — the Hint section names the family's method (its own ``hint_pattern``,
  :func:`tutor.claims.hint_names`);
* **speed** — seconds per greedy solution, tokens per second and time to first piece (local
  models; the engine has no tokens).

Accuracies are reported overall, per split (the held-out family is its own split) and per
family.  Output (``--out DIR``): ``eval.json`` (summary + one record per example with its
verdicts), ``report.md`` and ``accuracy.png`` (bar chart per family).  The ``symbolic``
profile is evaluated the same way, as a reference.

Run::

    python -m training.evaluate --profile symbolic --data data/ode-sft --out runs/eval/symbolic
    python -m training.evaluate --profile tinyllama-ode --adapter runs/dpo/tinyllama \\
        --data data/ode-sft --k 4 --out runs/eval/tinyllama
    # a fixed, family-balanced subset in two processes, then one report
    python -m training.evaluate --profile smollm2-ode-tools --data DATA --per-family 2 --shard 0/2 --out runs/eval/a &
    python -m training.evaluate --profile smollm2-ode-tools --data DATA --per-family 2 --shard 1/2 --out runs/eval/b
    python -m training.evaluate combine --out runs/eval/mine runs/eval/a runs/eval/b
"""
from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

# The Classification and Hint readers live in tutor/claims.py: the app flags the model's claims that
# the engine contradicts with the same readers these scores use.
from tutor.claims import hint_names, names_type, read_classification  # noqa: F401
from tutor.model_steps import STEP_SECONDS, check_model_steps
from tutor.model_steps import summary as step_summary

logger = logging.getLogger(__name__)


@dataclass
class Record:
    """One example's evaluation: what the model said and what the checker decided."""

    id: str
    split: str
    family: str
    problem: str
    greedy: str = ""
    final_answer: str = ""
    verdict: str = ""
    pass1: bool = False
    sample_verdicts: list[str] = field(default_factory=list)
    passk: bool = False
    order_ok: bool = False
    linear_ok: bool = False
    type_ok: bool = False
    hint_ok: bool = False
    seconds: float = 0.0
    tokens: int | None = None
    first_piece_s: float | None = None
    error: str = ""
    #: The greedy reply's steps whose relation could be checked, and how many of those hold
    #: (:mod:`tutor.model_steps`, the app's per-step tick or cross).
    steps_checked: int = 0
    steps_holding: int = 0


def judge(problem: Any, reply: str, fmt: Any, timeout: float) -> tuple[str, str]:
    """(verdict, final answer) of one reply in the format ``fmt``; ``no answer`` when it has no Final
    Answer (the one verdict rule: :func:`training.fanout.verify_item`, also LbT's)."""
    from training.fanout import verify_item

    final = fmt.final_answer(reply)
    return verify_item((problem, final, timeout)), final


def evaluate_row(row: dict, backend: Any, k: int, timeout: float,
                 raise_on: tuple[type[BaseException], ...] = ()) -> Record:
    """Greedy reply (timed), k samples, all judged by the checker; classification and hint scored.

    A backend failure is recorded as the example's error (a failed example), except those in
    ``raise_on`` (a server's transport errors: the pipeline retries them)."""
    from tutor.backends.local import LocalBackend, StreamStats

    from tutor.parser import parse
    from tutor.session import model_input

    fmt = backend.profile.format
    rec = Record(id=row["id"], split=row["split"], family=row["family"], problem=row["problem"])
    # what the model reads and what its answer is checked against, exactly as the app does it
    prompt, checked, _ = model_input(parse(row["problem"]), row["problem"], backend.profile)
    started = time.perf_counter()
    try:
        if isinstance(backend, LocalBackend):
            stats = StreamStats()
            rec.greedy = "".join(backend.stream(prompt, stats=stats))
            rec.tokens, rec.first_piece_s = stats.tokens, stats.first_piece_s
        else:
            rec.greedy = backend.complete(prompt, n=1)[0]
    except raise_on:
        raise
    except Exception as exc:  # a backend failure is a failed example, reported, not a crash
        rec.error = f"{type(exc).__name__}: {exc}"
    rec.seconds = time.perf_counter() - started
    sections = fmt.parse(rec.greedy, done=True)
    rec.verdict, rec.final_answer = judge(checked, rec.greedy, fmt, timeout)
    rec.pass1 = rec.verdict == "correct"
    stated = read_classification(sections.classification)
    rec.order_ok = stated["order"] == row["order"]
    rec.linear_ok = stated["linear"] == bool(row["linear"])
    rec.type_ok = names_type(row["family"], sections.classification)
    rec.hint_ok = hint_names(row["family"], sections.hint)
    counts = step_summary(check_model_steps(checked, sections.steps, timeout=min(STEP_SECONDS, timeout)))
    rec.steps_checked, rec.steps_holding = counts["checked"], counts["holds"]
    if k > 1:
        try:
            samples = backend.complete(prompt, n=k)
        except raise_on:
            raise
        except Exception as exc:
            samples, rec.error = [], rec.error or f"{type(exc).__name__}: {exc}"
        rec.sample_verdicts = [judge(checked, s, fmt, timeout)[0] for s in samples]
        rec.passk = "correct" in rec.sample_verdicts
    else:
        rec.passk = rec.pass1
    return rec


def _rate(records: list[Record], attr: str) -> float | None:
    return round(sum(bool(getattr(r, attr)) for r in records) / len(records), 4) if records else None


def _steps_block(records: list[Record]) -> dict:
    """The greedy replies' checkable steps: how many, and the share that holds (app's ticks)."""
    checked = sum(r.steps_checked for r in records)
    holding = sum(r.steps_holding for r in records)
    return {"checked": checked, "holding": holding,
            "share_holding": round(holding / checked, 4) if checked else None}


def summarize(records: list[Record]) -> dict:
    """Accuracies (fractions of records) and speed; every number recomputable from the records."""
    metrics = ("pass1", "passk", "order_ok", "linear_ok", "type_ok", "hint_ok")

    def block(rs: list[Record]) -> dict:
        out = {"n": len(rs), **{m: _rate(rs, m) for m in metrics}}
        out["classification_all"] = (round(sum(r.order_ok and r.linear_ok and r.type_ok for r in rs) / len(rs), 4)
                                     if rs else None)
        return out

    by_split, by_family = defaultdict(list), defaultdict(list)
    for r in records:
        by_split[r.split].append(r)
        by_family[r.family].append(r)
    seconds = [r.seconds for r in records]
    tokens = [(r.tokens, r.seconds) for r in records if r.tokens]
    return {
        "overall": block(records),
        "splits": {s: block(rs) for s, rs in sorted(by_split.items())},
        "families": {f: block(rs) for f, rs in sorted(by_family.items())},
        "speed": {
            "seconds_per_solution": round(sum(seconds) / len(seconds), 3) if seconds else None,
            "tokens_per_second": round(sum(t for t, _ in tokens) / sum(s for _, s in tokens), 2) if tokens else None,
            "first_piece_s": (round(sum(r.first_piece_s for r in records if r.first_piece_s is not None)
                                    / max(1, sum(r.first_piece_s is not None for r in records)), 3)
                              if any(r.first_piece_s is not None for r in records) else None),
        },
        "steps": _steps_block(records),
        "checker_calls": sum(r.verdict != "no answer" for r in records) + sum(
            sum(v != "no answer" for v in r.sample_verdicts) for r in records),
    }


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _steps_line(block: dict | None) -> str:
    if not block or not block.get("checked"):
        return "No step of a greedy reply stated a relation the checker could read."
    return (f"Of the greedy replies' steps, {block['checked']} state a relation the checker reads "
            f"(`tutor.model_steps`); {block['holding']} of them hold for the equation's solutions "
            f"({_pct(block['share_holding'])}), the app's ticks; the rest are its crosses.")


def report(summary: dict, info: dict) -> str:
    """The Markdown report."""
    head = ("| | n | pass@1 | pass@k | order | linearity | type | all three | hint |\n"
            "|---|---|---|---|---|---|---|---|---|")

    def line(name: str, b: dict) -> str:
        return (f"| {name} | {b['n']} | {_pct(b['pass1'])} | {_pct(b['passk'])} | {_pct(b['order_ok'])} | "
                f"{_pct(b['linear_ok'])} | {_pct(b['type_ok'])} | {_pct(b['classification_all'])} | "
                f"{_pct(b['hint_ok'])} |")

    splits = "\n".join(line(s, b) for s, b in summary["splits"].items())
    families = "\n".join(line(f, b) for f, b in summary["families"].items())
    sp = summary["speed"]
    return f"""# Evaluation: {info['profile']}

Model: {info['model']}; data: `{info['data']}` (splits: {', '.join(info['splits'])}); k = {info['k']};
held-out family: `{info.get('heldout_family') or '-'}`. Every verdict is `tutor.checker.check` on the
reply's Final Answer ({summary['checker_calls']} checker calls).

## Overall

{head}
{line('all', summary['overall'])}

## By split

{head}
{splits}

## By family

{head}
{families}

## Speed

- seconds per greedy solution: {sp['seconds_per_solution']}
- tokens per second: {sp['tokens_per_second'] if sp['tokens_per_second'] is not None else '– (no tokens: not a local model)'}
- time to first piece (s): {sp['first_piece_s'] if sp['first_piece_s'] is not None else '–'}

## Steps

{_steps_line(summary.get('steps'))}

![accuracy per family](accuracy.png)
"""


def chart(summary: dict, path: Path, title: str) -> Path:
    """Grouped bars per family: pass@1, pass@k, classification (all three), hint."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    families = list(summary["families"])
    series = [("pass@1", "pass1"), ("pass@k", "passk"), ("classification", "classification_all"),
              ("hint", "hint_ok")]
    width = 0.2
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(families) + 2), 4))
    for i, (label, key) in enumerate(series):
        values = [100 * (summary["families"][f][key] or 0) for f in families]
        ax.bar([j + (i - 1.5) * width for j in range(len(families))], values, width, label=label)
    ax.set_xticks(range(len(families)))
    ax.set_xticklabels(families, rotation=30, ha="right")
    ax.set_ylabel("% of examples")
    ax.set_ylim(0, 105)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


@dataclass
class EvalConfig:
    profile: str
    data: str
    out: str
    splits: list[str] = field(default_factory=lambda: ["test", "heldout"])
    base_model: str | None = None
    adapter: str | None = None
    k: int = 4
    temperature: float = 0.8
    max_new_tokens: int | None = None
    max_examples: int | None = None  # per split
    per_family: int | None = None  # per family within each split (the first ones, in split order)
    shard: str | None = None  # "I/N": every N-th example from the I-th (one process per core)
    timeout: float = 20.0
    torch_threads: int | None = None
    progress: bool = True
    #: an OpenAI-compatible server (vLLM, transformers serve) serving the profile's model
    server: str | None = None
    server_model: str | None = None
    concurrency: int = 8  # examples in flight against a server (in process: 1)
    retries: int = 4
    request_timeout: float = 600.0
    fresh: bool = False  # ignore the records an earlier run of this --out finished


def run(config: EvalConfig) -> dict:
    """Evaluate and write eval.json, report.md, accuracy.png; returns the eval.json content.

    Each example's record is appended to ``OUT/records.jsonl`` when it is done; a rerun of the
    same command skips those (``fresh`` starts over).  With ``server`` the profile's model is
    asked over HTTP, ``concurrency`` examples at a time, and a transport failure is retried, then
    left for the next run — never recorded as the model's wrong answer.
    """
    from dataclasses import replace

    from training.data import load
    from training.pipeline import ResultLog, retrying, run_items, server_profile, transient_errors
    from tutor.backends import get_backend
    from tutor.profiles import load_profile

    if config.torch_threads:
        import torch

        torch.set_num_threads(config.torch_threads)
    profile = load_profile(config.profile, base_model=config.base_model, adapter=config.adapter)
    if config.server:
        if profile.backend == "symbolic":
            raise SystemExit("--server serves a model; the symbolic profile has none")
        profile = server_profile(profile, config.server, model=config.server_model,
                                 request_timeout=config.request_timeout)
    if profile.backend in ("local", "remote"):
        # pass@1 is greedy (temperature 0); the k samples use config.temperature (the backends
        # sample whenever n > 1).
        generation = replace(profile.generation, temperature=0.0,
                             max_new_tokens=config.max_new_tokens or profile.generation.max_new_tokens)
        profile = replace(profile, generation=generation)
    backend = get_backend(profile)
    if profile.backend == "local":
        backend.generation_settings = _sampling_with(backend.generation_settings, config.temperature)
    elif profile.backend == "remote":
        backend.request_body = _request_sampling_with(backend.request_body, config.temperature)
    dataset = load(config.data)
    rows = select_rows(dataset, config)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    k = config.k if profile.backend != "symbolic" else 1
    remote = profile.backend == "remote"
    log = ResultLog(out / "records.jsonl", fresh=config.fresh)
    transport = transient_errors() if remote else ()
    work = retrying(lambda row: asdict(evaluate_row(row, backend, k, config.timeout, raise_on=transport)),
                    tries=config.retries if remote else 1)
    done = run_items(((row["id"], row) for row in rows), work, log, concurrency=config.concurrency if remote else 1,
                     desc=f"evaluating {profile.name}", progress=config.progress)
    if done.failed:
        logger.warning("%s", done.describe("examples"))
    known = {f.name for f in fields(Record)}
    records = [Record(**{key: v for key, v in log.records[row["id"]].items() if key in known})
               for row in rows if row["id"] in log]
    summary = summarize(records)
    stats_file = Path(config.data) / "stats.json"
    heldout = json.loads(stats_file.read_text())["config"].get("heldout_family") if stats_file.is_file() else None
    info = {"profile": profile.name, "model": profile.describe(), "data": config.data, "splits": config.splits,
            "k": k, "heldout_family": heldout, "examples": len(rows), "failed": done.failed}
    result = {"info": info, "summary": summary, "records": [asdict(r) for r in records], "config": asdict(config)}
    (out / "eval.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    (out / "report.md").write_text(report(summary, info), encoding="utf-8")
    chart(summary, out / "accuracy.png", f"{profile.name}: accuracy per family")
    return result


def select_rows(dataset: Any, config: EvalConfig) -> list[dict]:
    """The examples to evaluate: the chosen splits, capped per split and per family, then sharded.

    The caps keep each split's own order (which :func:`training.data.assign_splits` fixed by a
    hash of the problem, not by anything a model did), so a capped run is a fixed subset.
    """
    rows: list[dict] = []
    for split in config.splits:
        if split not in dataset:
            continue
        part = list(dataset[split])
        if config.per_family:
            seen: dict[str, int] = defaultdict(int)
            kept = []
            for row in part:
                if seen[row["family"]] < config.per_family:
                    seen[row["family"]] += 1
                    kept.append(row)
            part = kept
        rows += part[: config.max_examples] if config.max_examples else part
    if config.shard:
        index, count = _shard(config.shard)
        rows = rows[index::count]
    return rows


def _shard(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not m or not 0 <= int(m.group(1)) < int(m.group(2)):
        raise SystemExit(f"--shard wants I/N with 0 <= I < N (e.g. 0/2), got {text!r}")
    return int(m.group(1)), int(m.group(2))


def _sampling_with(settings_fn: Any, temperature: float) -> Any:
    """The backend's settings, with ``temperature`` for sampled (n > 1) calls."""
    def settings(n: int = 1) -> dict:
        s = settings_fn(n)
        if n > 1:
            s["temperature"] = temperature
        return s
    return settings


def _request_sampling_with(body_fn: Any, temperature: float) -> Any:
    """A remote backend's request bodies, with ``temperature`` for sampled ones."""
    def body(*args: Any, **kwargs: Any) -> dict:
        b = body_fn(*args, **kwargs)
        if b.get("temperature"):
            b["temperature"] = temperature
        return b
    return body


def parse_args(argv: list[str] | None = None) -> EvalConfig:
    p = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.split("\n")[0])
    p.add_argument("--profile", required=True, help="profile name (tutor/profiles.yaml), e.g. symbolic")
    p.add_argument("--data", required=True, help="output of python -m training.data")
    p.add_argument("--out", required=True)
    p.add_argument("--splits", nargs="*", default=["test", "heldout"])
    p.add_argument("--base-model", default=None)
    p.add_argument("--adapter", default=None)
    p.add_argument("--k", type=int, default=4, help="samples for pass@k / verified best-of-n (1: greedy only)")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--max-new-tokens", type=int, default=None)
    p.add_argument("--max-examples", type=int, default=None, help="per split")
    p.add_argument("--per-family", type=int, default=None, help="at most this many examples per family and split")
    p.add_argument("--shard", default=None, help="I/N: evaluate every N-th example from the I-th "
                   "(run N processes, then python -m training.evaluate combine)")
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--torch-threads", type=int, default=None)
    p.add_argument("--no-progress", action="store_true")
    scale = p.add_argument_group("scale-out (README: 'The pipeline at scale')")
    scale.add_argument("--server", default=None, help="OpenAI-compatible server (vLLM, transformers serve) "
                       "serving the profile's model, e.g. http://gpu-box:8000")
    scale.add_argument("--server-model", default=None, help="the model's name there (vLLM: a --lora-modules name)")
    scale.add_argument("--concurrency", type=int, default=8, help="examples in flight against the server")
    scale.add_argument("--retries", type=int, default=4, help="tries per example against the server")
    scale.add_argument("--request-timeout", type=float, default=600.0, help="seconds for one whole reply")
    scale.add_argument("--fresh", action="store_true", help="start over instead of resuming OUT/records.jsonl")
    a = vars(p.parse_args(argv))
    a["progress"] = not a.pop("no_progress")
    if a["shard"]:
        _shard(a["shard"])  # a bad value fails here, before any model is loaded
    return EvalConfig(**a)


def combine(eval_dirs: list[str], out: str | Path) -> Path:
    """One report from ``training.evaluate`` runs over disjoint splits (one process per core)."""
    from dataclasses import asdict, fields

    runs = [json.loads((Path(d) / "eval.json").read_text(encoding="utf-8")) for d in eval_dirs]
    known = {f.name for f in fields(Record)}
    records = [Record(**{k: v for k, v in r.items() if k in known}) for run in runs for r in run["records"]]
    info = dict(runs[0]["info"])
    info["splits"] = list(dict.fromkeys(s for run in runs for s in run["info"]["splits"]))
    info["data"] = ", ".join(dict.fromkeys(run["info"]["data"] for run in runs))
    summary = summarize(records)
    config = dict(runs[0]["config"], splits=info["splits"], out=str(out))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = {"info": info, "summary": summary, "records": [asdict(r) for r in records], "config": config,
              "combined_from": [str(d) for d in eval_dirs]}
    (out / "eval.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    (out / "report.md").write_text(report(summary, info), encoding="utf-8")
    chart(summary, out / "accuracy.png", f"{info['profile']}: accuracy per family")
    return out


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["combine"]:  # python -m training.evaluate combine --out OUT DIR [DIR ...]
        p = argparse.ArgumentParser(prog="python -m training.evaluate combine", description=combine.__doc__)
        p.add_argument("--out", required=True)
        p.add_argument("dirs", nargs="+")
        a = p.parse_args(argv[1:])
        print(combine(a.dirs, a.out), file=sys.stderr)
        return 0
    config = parse_args(argv)
    result = run(config)
    o = result["summary"]["overall"]
    print(f"{result['info']['profile']}: n={o['n']} pass@1={_pct(o['pass1'])} pass@k={_pct(o['passk'])} "
          f"classification={_pct(o['classification_all'])} hint={_pct(o['hint_ok'])} -> {config.out}",
          file=sys.stderr)
    failed = result["info"]["failed"]
    if failed:  # left out of the scores; the same command again retries exactly these
        print(f"{len(failed)} examples failed (first: {next(iter(failed.values()))}); run the same command "
              "again to retry them", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
