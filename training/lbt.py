"""Learning by Teaching (LbT): score the teacher's rationales by how well a student learns from them.

For every training problem the teacher (the SFT model: base + adapter, loaded by the project's
local backend, :mod:`tutor.backends.local`) samples ``k`` rationales in the tutor format.  Each
rationale gets two scores, both decided by the one verifier (:func:`tutor.checker.check`):

* **correctness** — 1 when its Final Answer is ``correct`` for the problem, else 0;
* **LbT score** — the student (by default the teacher itself with its adapter) is shown the
  problem and the rationale as a one-shot example, then solves ``exam_size`` *exam problems*:
  functional variants of the teaching problem from the same method's generator (same family
  and difficulty, coefficients perturbed; :func:`training.data.variants`), ``m`` samples each.
  The score is the fraction the checker marks correct.

``total = correctness_weight * correctness + lbt_weight * lbt`` (0.5 / 0.5 by default).  Every
pair of rationales of one problem whose totals differ by more than ``min_gap`` (0.3) becomes a
preference pair (prompt, chosen = higher, rejected = lower); the widest gaps are kept, at most
``max_pairs`` (8) per problem.  Identical texts never form a pair.

``--include-reference`` adds the engine's verified derivation (the SFT target) as one more
candidate, scored exactly like the samples.  A teacher that is never right (an early or tiny
checkpoint) then still yields pairs; off by default.

Output (``--out DIR``): ``DIR/dataset`` (``save_to_disk``; split ``train``: ``prompt``,
``chosen``, ``rejected`` conversational rows with their scores), ``DIR/pairs.jsonl``,
``DIR/rationales.jsonl`` (every candidate with its verdict, exam verdicts and scores),
``DIR/stats.json`` and ``DIR/README.md``.

The work runs in four resumable stages (``DIR/work/*.jsonl``, one line per finished item; a
rerun of the same command skips what is there): the teacher's rationales and the exams, the
student's exam replies (in process: one batched ``generate`` per rationale; against a server:
``--concurrency`` items in flight, retried with backoff), every answer checked (fanned out on
this machine's pool or on Ray, :mod:`training.fanout`), and the scores and pairs.

Run::

    python -m training.lbt --data data/ode-sft --base-model microsoft/Phi-3-mini-4k-instruct \\
        --adapter runs/sft/phi3-mini --out data/ode-pref --k 8 --exam-size 3 --m 2
    # the same against vLLM serving the SFT adapter as "sft" (README: the pipeline at scale)
    python -m training.lbt --data data/ode-sft --base-model microsoft/Phi-3-mini-4k-instruct \\
        --server http://gpu-box:8000 --server-model sft --concurrency 64 --out data/ode-pref --k 32
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tutor.format import FORMATS

logger = logging.getLogger(__name__)

#: problems whose answers are checked (and logged) together in stage 3
CHECK_CHUNK = 32


@dataclass
class LbTConfig:
    data: str
    out: str
    base_model: str
    adapter: str | None = None
    student_base_model: str | None = None  # default: the teacher's base
    student_adapter: str | None = None  # default: the teacher's adapter (student = teacher)
    quantization: str = "nf4"
    split: str = "train"
    max_problems: int | None = None
    families: list[str] | None = None
    per_family: int | None = None  # at most this many problems of each family (the split's order)
    k: int = 4
    exam_size: int = 3
    m: int = 2
    correctness_weight: float = 0.5
    lbt_weight: float = 0.5
    min_gap: float = 0.3
    max_pairs: int = 8
    temperature: float = 0.8
    top_p: float = 0.95
    max_new_tokens: int = 768
    include_reference: bool = False
    #: the models' format (tutor.format.FORMATS): "tutor", or "tools" for a tool-assisted adapter,
    #: whose requests are answered in every rationale and exam reply
    prompt_format: str = "tutor"
    #: the models read problems as the smollm2-ode profile does: compact LaTeX in y(x)
    #: (tutor.letters.model_problem_text; data made with training.data --compact)
    canonical_letters: bool = False
    variant_search: int = 12
    timeout: float = 20.0
    seed: int = 0
    torch_threads: int | None = None
    progress: bool = True
    #: an OpenAI-compatible server (vLLM, transformers serve) instead of the in-process model
    server: str | None = None
    server_model: str | None = None  # the teacher's name there (vLLM: a --lora-modules name)
    student_server_model: str | None = None  # default: the teacher's
    concurrency: int = 8  # problems in flight against a server (the in-process model: 1)
    retries: int = 4  # tries per request against a server
    request_timeout: float = 600.0
    executor: str = "auto"  # where the checker runs: local pool, or ray (training.fanout)
    workers: int | None = None
    fresh: bool = False  # ignore what an earlier run of this --out finished


@dataclass
class Candidate:
    """One rationale of one teaching problem with its scores."""

    problem_id: str
    index: int
    source: str  # "teacher" or "reference"
    text: str
    final_answer: str = ""
    verdict: str = ""
    correctness: float = 0.0
    exam_verdicts: list[list[str]] = field(default_factory=list)  # [exam problem][sample]
    lbt: float = 0.0
    total: float = 0.0


# --------------------------------------------------------------------------- models

def _profile(config: LbTConfig, student: bool):
    """A local profile (the project's loader) for the teacher or the student, or the same
    model served by ``config.server``."""
    from tutor.profiles import Generation, Profile

    base = (config.student_base_model or config.base_model) if student else config.base_model
    adapter = (config.student_adapter or config.adapter) if student else config.adapter
    generation = Generation(max_new_tokens=config.max_new_tokens, temperature=config.temperature,
                            top_p=config.top_p)
    profile = Profile(name="lbt-student" if student else "lbt-teacher", backend="local", base_model=base,
                      adapter=adapter, quantization=config.quantization, prompt_format=config.prompt_format,
                      generation=generation)
    if config.server:
        from training.pipeline import server_profile

        name = (config.student_server_model or config.server_model) if student else config.server_model
        profile = server_profile(profile, config.server, model=name, request_timeout=config.request_timeout)
    return profile


def one_shot_messages(teach_problem: str, rationale: str, exam_problem: str,
                      prompt_format: str = "tutor") -> list[dict[str, str]]:
    """The student's prompt: the teaching problem and rationale as a worked example, then the exam."""
    fmt = FORMATS[prompt_format]
    return [*fmt.messages(teach_problem), {"role": "assistant", "content": rationale},
            {"role": "user", "content": fmt.user_prompt(exam_problem)}]


def exam_replies(backend: Any, chats: list[list[dict[str, str]]], n: int) -> list[list[str]]:
    """``n`` replies to each one-shot exam prompt: one batched generate in process, one request
    per prompt against a server."""
    if hasattr(backend, "complete_chats"):
        return backend.complete_chats(chats, n)
    return [backend.complete_messages(chat, n) for chat in chats]


# --------------------------------------------------------------------------- scoring

def pairs_for(candidates: list[Candidate], min_gap: float, max_pairs: int) -> list[tuple[Candidate, Candidate]]:
    """(chosen, rejected) with total(chosen) - total(rejected) > min_gap, widest first, <= max_pairs."""
    found = []
    for a, b in itertools.combinations(candidates, 2):
        if a.text.strip() == b.text.strip():
            continue
        hi, lo = (a, b) if a.total >= b.total else (b, a)
        if hi.total - lo.total > min_gap:
            found.append((hi, lo))
    found.sort(key=lambda p: (-(p[0].total - p[1].total), p[0].index, p[1].index))
    return found[:max_pairs]


def teaching_rows(config: LbTConfig) -> list[dict]:
    """One row per unique problem of the split (both renderings share a canonical key)."""
    from training.data import load

    rows, seen, per_family = [], set(), Counter()
    for row in load(config.data)[config.split]:
        if config.families and row["family"] not in config.families:
            continue
        if row["canonical"] in seen or (config.per_family and per_family[row["family"]] >= config.per_family):
            continue
        seen.add(row["canonical"])
        per_family[row["family"]] += 1
        rows.append(row)
    return rows[: config.max_problems] if config.max_problems else rows


def _reader(config: LbTConfig):
    """How a problem is written in the models' prompts: as typed, or (canonical_letters) as the
    smollm2-ode profile writes it. Rows of such data are in y(x) already, so checks are unchanged."""
    if not config.canonical_letters:
        return lambda problem, text: text
    from tutor.letters import model_problem_text

    return lambda problem, text: model_problem_text(problem)


def teach(row: dict, teacher: Any, config: LbTConfig) -> dict:
    """Stage 1 of one problem: the teacher's ``k`` rationales and the exam (functional variants)."""
    from training.data import variants
    from tutor.parser import parse

    problem = parse(row["problem"])
    seen_as = _reader(config)
    texts = [("teacher", t) for t in teacher.complete(seen_as(problem, row["problem"]), n=config.k)] if config.k else []
    if config.include_reference:
        texts.append(("reference", row["completion"][0]["content"]))
    exam = variants(row, config.exam_size, search=config.variant_search, timeout=config.timeout * 1.5)
    return {"texts": texts, "exam": [c.plain if row["notation"] == "plain" else c.latex for c in exam],
            "exact_variants": sum(c.skeleton == row["skeleton"] for c in exam)}


def sit_exam(row: dict, taught: dict, index: int, student: Any, config: LbTConfig) -> dict:
    """Stage 2 of one rationale: the student's ``m`` replies to each exam problem, taught with it."""
    from tutor.parser import parse

    seen_as = _reader(config)
    problem = parse(row["problem"])
    teaching = seen_as(problem, row["problem"])
    text = taught["texts"][index][1]
    chats = [one_shot_messages(teaching, text, seen_as(parse(e), e), config.prompt_format) for e in taught["exam"]]
    return {"replies": exam_replies(student, chats, config.m) if chats else []}


def score(row: dict, taught: dict, exams: list[dict], verdicts: dict, config: LbTConfig) -> list[Candidate]:
    """Stage 4: the candidates of one problem with their scores, from the stages' results."""
    candidates = []
    for index, (source, text) in enumerate(taught["texts"]):
        c = Candidate(problem_id=row["id"], index=index, source=source, text=text)
        c.final_answer = _final(text, config.prompt_format)
        c.verdict = verdicts[(row["id"], index, -1, -1)]
        c.correctness = 1.0 if c.verdict == "correct" else 0.0
        solved = total = 0
        for e, replies in enumerate(exams[index]["replies"]):
            verdict_list = [verdicts[(row["id"], index, e, j)] for j in range(len(replies))]
            c.exam_verdicts.append(verdict_list)
            solved += sum(v == "correct" for v in verdict_list)
            total += len(verdict_list)
        c.lbt = solved / total if total else 0.0
        c.total = config.correctness_weight * c.correctness + config.lbt_weight * c.lbt
        candidates.append(c)
    return candidates


def _final(reply: str, prompt_format: str = "tutor") -> str:
    return FORMATS[prompt_format].final_answer(reply)


def _checks(row: dict, taught: dict, exams: list[dict], prompt_format: str = "tutor"):
    """((problem id, rationale, exam problem or -1, sample or -1), (problem text, final answer))
    for every answer stage 3 checks: each rationale on its problem, each exam reply on its exam."""
    for index, (_, text) in enumerate(taught["texts"]):
        yield (row["id"], index, -1, -1), (row["problem"], _final(text, prompt_format))
        for e, replies in enumerate(exams[index]["replies"]):
            for j, reply in enumerate(replies):
                yield (row["id"], index, e, j), (taught["exam"][e], _final(reply, prompt_format))


def run(config: LbTConfig) -> dict:
    """Score every teaching problem, build the pairs, save; returns the stats.

    Four stages, each resumable (``OUT/work/*.jsonl``; a rerun skips what is there): the teacher's
    rationales and the exams, the student's exam replies (with a server: ``concurrency`` items in
    flight, retried), every answer checked (fanned out: ``executor``), then scores and pairs.
    """
    from datasets import Dataset, DatasetDict

    from tutor.backends import get_backend
    from training.fanout import verify_item, fan_out
    from training.pipeline import ResultLog, retrying, run_items

    if config.torch_threads:
        import torch

        torch.set_num_threads(config.torch_threads)
    started = time.monotonic()
    teacher = get_backend(_profile(config, student=False))
    student = get_backend(_profile(config, student=True))
    rows = teaching_rows(config)
    by_id = {row["id"]: row for row in rows}
    out = Path(config.out)
    work = out / "work"
    out.mkdir(parents=True, exist_ok=True)
    concurrency = max(1, config.concurrency) if config.server else 1  # one in-process model
    tries = config.retries if config.server else 1
    report = {}

    # stage 1: rationales and exams, one item per problem
    taught_log = ResultLog(work / "rationales.jsonl", fresh=config.fresh)
    report["rationales"] = run_items(
        ((row["id"], row) for row in rows), retrying(lambda row: teach(row, teacher, config), tries=tries),
        taught_log, concurrency=concurrency, desc="teacher rationales", progress=config.progress)
    # stage 2: exam replies, one item per rationale
    exam_log = ResultLog(work / "exams.jsonl", fresh=config.fresh)
    items = [(f"{pid}#{i}", (by_id[pid], rec, i)) for pid, rec in taught_log.records.items() if pid in by_id
             for i in range(len(rec["texts"]))]
    report["exams"] = run_items(
        items, retrying(lambda a: sit_exam(*a, student, config), tries=tries), exam_log,
        concurrency=concurrency, desc="student exams", progress=config.progress)
    # stage 3: every answer checked (fanned out), logged per problem whose exams are all in,
    # a few dozen problems at a time so that a crash loses at most one chunk
    ready = [pid for pid, rec in taught_log.records.items() if pid in by_id
             and all(f"{pid}#{i}" in exam_log for i in range(len(rec["texts"])))]
    verdict_log = ResultLog(work / "verdicts.jsonl", fresh=config.fresh)
    todo = [pid for pid in ready if pid not in verdict_log]
    for start in range(0, len(todo), CHECK_CHUNK):
        chunk = todo[start:start + CHECK_CHUNK]
        checks = [(pid, key, item) for pid in chunk
                  for key, item in _checks(by_id[pid], taught_log.records[pid],
                                           [exam_log.records[f"{pid}#{i}"]
                                            for i in range(len(taught_log.records[pid]["texts"]))],
                                           config.prompt_format)]
        verdicts = fan_out(verify_item, [(problem, answer, config.timeout) for _, _, (problem, answer) in checks],
                           executor=config.executor, workers=config.workers, desc="checking answers",
                           progress=config.progress)
        grouped: dict[str, list] = {pid: [] for pid in chunk}
        for (pid, key, _), verdict in zip(checks, verdicts):
            grouped[pid].append([list(key[1:]), verdict])
        for pid in chunk:
            verdict_log.append({"id": pid, "verdicts": grouped[pid]})

    # stage 4: scores and pairs, in the problems' order
    pairs: list[dict] = []
    counts: Counter = Counter()
    scored = 0
    with open(out / "rationales.jsonl", "w", encoding="utf-8") as log:
        for row in rows:
            if row["id"] not in verdict_log:
                continue
            scored += 1
            taught = taught_log.records[row["id"]]
            exams = [exam_log.records[f"{row['id']}#{i}"] for i in range(len(taught["texts"]))]
            verdicts_of = {(row["id"], *key): v for key, v in verdict_log.records[row["id"]]["verdicts"]}
            candidates = score(row, taught, exams, verdicts_of, config)
            for c in candidates:
                counts[f"{c.source} {c.verdict}"] += 1
                log.write(json.dumps({**asdict(c), "family": row["family"], "problem": row["problem"],
                                      "exam": taught["exam"]}, ensure_ascii=False) + "\n")
            chosen_rejected = pairs_for(candidates, config.min_gap, config.max_pairs)
            counts["problems with pairs"] += bool(chosen_rejected)
            for chosen, rejected in chosen_rejected:
                pairs.append({
                    "id": f"{row['id']}:{chosen.index}>{rejected.index}",
                    "prompt": list(row["prompt"]),
                    "chosen": [{"role": "assistant", "content": chosen.text}],
                    "rejected": [{"role": "assistant", "content": rejected.text}],
                    "chosen_score": chosen.total, "rejected_score": rejected.total,
                    "chosen_correctness": chosen.correctness, "rejected_correctness": rejected.correctness,
                    "chosen_lbt": chosen.lbt, "rejected_lbt": rejected.lbt,
                    "chosen_source": chosen.source, "rejected_source": rejected.source,
                    "family": row["family"], "problem": row["problem"], "exam_size": len(taught["exam"]),
                })
    with open(out / "pairs.jsonl", "w", encoding="utf-8") as fh:
        for p in pairs:
            fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    if pairs:
        DatasetDict({"train": Dataset.from_list(pairs)}).save_to_disk(str(out / "dataset"))
    seconds = time.monotonic() - started
    failed = {name: r.failed for name, r in report.items() if r.failed}
    stats = {"problems": len(rows), "scored": scored, "pairs": len(pairs), "seconds": round(seconds, 1),
             "candidates": dict(counts), "failed": failed,
             "stages": {name: r.describe() for name, r in report.items()}, "config": asdict(config)}
    (out / "stats.json").write_text(json.dumps(stats, indent=2), encoding="utf-8")
    (out / "README.md").write_text(_card(stats, pairs), encoding="utf-8")
    return stats


def _card(stats: dict, pairs: list[dict]) -> str:
    c = stats["config"]
    families = Counter(p["family"] for p in pairs)
    lines = "\n".join(f"| {f} | {n} |" for f, n in sorted(families.items()))
    return f"""# ODE tutor preference pairs (Learning by Teaching)

Built by `python -m training.lbt` from `{c['data']}` ({c['split']} split): teacher `{c['base_model']}`
+ adapter `{c['adapter']}`, student {'the teacher' if not (c['student_base_model'] or c['student_adapter']) else
f"`{c['student_base_model'] or c['base_model']}` + `{c['student_adapter'] or c['adapter']}`"}.
k = {c['k']} rationales per problem{' plus the engine reference' if c['include_reference'] else ''}, exams of
{c['exam_size']} functional variants x m = {c['m']} samples; total = {c['correctness_weight']} x correctness +
{c['lbt_weight']} x LbT; pairs with a gap > {c['min_gap']}, at most {c['max_pairs']} per problem.
All verdicts by `tutor.checker.check`.

- teaching problems: {stats['problems']}, pairs: {stats['pairs']}, time: {stats['seconds']} s
- candidates by verdict: {', '.join(f'{k}: {v}' for k, v in sorted(stats['candidates'].items()))}

| family | pairs |
|---|---|
{lines}
"""


def parse_args(argv: list[str] | None = None) -> LbTConfig:
    p = argparse.ArgumentParser(prog="python -m training.lbt", description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="output of python -m training.data")
    p.add_argument("--out", required=True)
    p.add_argument("--base-model", required=True, help="teacher base (hub id or directory)")
    p.add_argument("--adapter", default=None, help="teacher's SFT adapter")
    p.add_argument("--student-base-model", default=None, help="default: the teacher's base")
    p.add_argument("--student-adapter", default=None, help="default: the teacher's adapter")
    p.add_argument("--quantization", choices=("nf4", "none"), default="nf4")
    p.add_argument("--split", default="train")
    p.add_argument("--max-problems", type=int, default=None)
    p.add_argument("--families", nargs="*", default=None)
    p.add_argument("--per-family", type=int, default=None, help="at most N problems of each family")
    p.add_argument("--k", type=int, default=4, help="rationales sampled per problem")
    p.add_argument("--exam-size", type=int, default=3, help="exam problems per teaching problem")
    p.add_argument("--m", type=int, default=2, help="student samples per exam problem")
    p.add_argument("--correctness-weight", type=float, default=0.5)
    p.add_argument("--lbt-weight", type=float, default=0.5)
    p.add_argument("--min-gap", type=float, default=0.3)
    p.add_argument("--max-pairs", type=int, default=8)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-p", type=float, default=0.95)
    p.add_argument("--max-new-tokens", type=int, default=768)
    p.add_argument("--prompt-format", choices=sorted(FORMATS), default="tutor",
                   help="the models' format: tools for a tool-assisted adapter (its requests answered)")
    p.add_argument("--include-reference", action="store_true",
                   help="also score the engine's derivation as a candidate")
    p.add_argument("--canonical-letters", action="store_true",
                   help="prompt with the problem as the smollm2-ode profile does (compact LaTeX in y(x))")
    p.add_argument("--variant-search", type=int, default=12, help="generator seeds tried per exam")
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--torch-threads", type=int, default=None)
    p.add_argument("--no-progress", action="store_true")
    scale = p.add_argument_group("scale-out (README: 'The pipeline at scale')")
    scale.add_argument("--server", default=None, help="OpenAI-compatible server (vLLM, transformers serve) "
                       "to generate with instead of the in-process model, e.g. http://gpu-box:8000")
    scale.add_argument("--server-model", default=None, help="the teacher's model name on the server "
                       "(vLLM: a --lora-modules name)")
    scale.add_argument("--student-server-model", default=None, help="the student's (default: the teacher's)")
    scale.add_argument("--concurrency", type=int, default=8, help="items in flight against the server")
    scale.add_argument("--retries", type=int, default=4, help="tries per request against the server")
    scale.add_argument("--request-timeout", type=float, default=600.0, help="seconds for one whole reply")
    scale.add_argument("--executor", choices=("auto", "local", "ray"), default="auto",
                       help="where answers are checked: this machine's worker pool, or Ray "
                            "(auto: Ray when RAY_ADDRESS is set)")
    scale.add_argument("--workers", type=int, default=None, help="parallel checks (default: the CPUs here)")
    scale.add_argument("--fresh", action="store_true", help="start over instead of resuming OUT/work")
    a = vars(p.parse_args(argv))
    a["progress"] = not a.pop("no_progress")
    return LbTConfig(**a)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    config = parse_args(argv)
    from transformers import set_seed

    set_seed(config.seed)
    stats = run(config)
    print(f"LbT: {stats['scored']}/{stats['problems']} problems scored -> {stats['pairs']} pairs in "
          f"{stats['seconds']} s ({config.out})", file=sys.stderr)
    for name, text in stats["stages"].items():
        print(f"  {name}: {text}", file=sys.stderr)
    return 0 if not stats["failed"] else 3


if __name__ == "__main__":
    raise SystemExit(main())
