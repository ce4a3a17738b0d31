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

Run::

    python -m training.lbt --data data/ode-sft --base-model microsoft/Phi-3-mini-4k-instruct \\
        --adapter runs/sft/phi3-mini --out data/ode-pref --k 8 --exam-size 3 --m 2
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

from tutor import checker
from tutor.format import FORMATS, answer_text

logger = logging.getLogger(__name__)


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
    #: the models read problems as the smollm2-ode profile does: compact LaTeX in y(x)
    #: (tutor.letters.model_problem_text; data made with training.data --compact)
    canonical_letters: bool = False
    variant_search: int = 12
    timeout: float = 20.0
    seed: int = 0
    torch_threads: int | None = None
    progress: bool = True


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
    """A local profile (the project's loader) for the teacher or the student."""
    from tutor.profiles import Generation, Profile

    base = (config.student_base_model or config.base_model) if student else config.base_model
    adapter = (config.student_adapter or config.adapter) if student else config.adapter
    generation = Generation(max_new_tokens=config.max_new_tokens, temperature=config.temperature,
                            top_p=config.top_p)
    return Profile(name="lbt-student" if student else "lbt-teacher", backend="local", base_model=base,
                   adapter=adapter, quantization=config.quantization, prompt_format="tutor",
                   generation=generation)


def one_shot_messages(teach_problem: str, rationale: str, exam_problem: str) -> list[dict[str, str]]:
    """The student's prompt: the teaching problem and rationale as a worked example, then the exam."""
    fmt = FORMATS["tutor"]
    return [*fmt.messages(teach_problem), {"role": "assistant", "content": rationale},
            {"role": "user", "content": fmt.user_prompt(exam_problem)}]


def student_samples(backend: Any, messages: list[dict[str, str]], n: int) -> list[str]:
    """``n`` sampled replies of the student to a one-shot prompt (the backend's model and settings)."""
    import torch

    model, tokenizer = backend.load()
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True,
                                           return_tensors="pt")
    inputs = {k: v.to(model.device) for k, v in inputs.items() if k in ("input_ids", "attention_mask")}
    settings = backend.generation_settings(n)
    with torch.inference_mode():
        output = model.generate(**inputs, **settings)
    length = inputs["input_ids"].shape[1]
    return [tokenizer.decode(row[length:], skip_special_tokens=True) for row in output]


# --------------------------------------------------------------------------- scoring

def verdict_of(problem: Any, reply: str, timeout: float) -> tuple[str, str]:
    """(verdict, final answer) of a tutor-format reply, by the one verifier."""
    final = answer_text(FORMATS["tutor"].parse(reply, done=True).final_answer)
    if not final:
        return "no answer", ""
    return checker.check(problem, final, timeout=timeout).verdict, final


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

    rows, seen = [], set()
    for row in load(config.data)[config.split]:
        if config.families and row["family"] not in config.families:
            continue
        if row["canonical"] in seen:
            continue
        seen.add(row["canonical"])
        rows.append(row)
    return rows[: config.max_problems] if config.max_problems else rows


def _reader(config: LbTConfig):
    """How a problem is written in the models' prompts: as typed, or (canonical_letters) as the
    smollm2-ode profile writes it. Rows of such data are in y(x) already, so checks are unchanged."""
    if not config.canonical_letters:
        return lambda problem, text: text
    from tutor.letters import model_problem_text

    return lambda problem, text: model_problem_text(problem)


def score_problem(row: dict, teacher: Any, student: Any, config: LbTConfig) -> tuple[list[Candidate], dict]:
    """All candidates of one teaching problem, scored; plus the exam used."""
    from training.data import variants
    from tutor.parser import parse

    problem = parse(row["problem"])
    seen_as = _reader(config)
    texts = [("teacher", t) for t in teacher.complete(seen_as(problem, row["problem"]), n=config.k)] if config.k else []
    if config.include_reference:
        texts.append(("reference", row["completion"][0]["content"]))
    exam = variants(row, config.exam_size, search=config.variant_search, timeout=config.timeout * 1.5)
    exam_texts = [c.plain if row["notation"] == "plain" else c.latex for c in exam]
    exam_problems = [parse(t) for t in exam_texts]
    candidates = []
    for index, (source, text) in enumerate(texts):
        c = Candidate(problem_id=row["id"], index=index, source=source, text=text)
        c.verdict, c.final_answer = verdict_of(problem, text, config.timeout)
        c.correctness = 1.0 if c.verdict == "correct" else 0.0
        solved = total = 0
        for exam_text, exam_problem in zip(exam_texts, exam_problems):
            replies = student_samples(student, one_shot_messages(seen_as(problem, row["problem"]), text,
                                                                 seen_as(exam_problem, exam_text)), config.m)
            verdicts = [verdict_of(exam_problem, reply, config.timeout)[0] for reply in replies]
            c.exam_verdicts.append(verdicts)
            solved += sum(v == "correct" for v in verdicts)
            total += len(verdicts)
        c.lbt = solved / total if total else 0.0
        c.total = config.correctness_weight * c.correctness + config.lbt_weight * c.lbt
        candidates.append(c)
    return candidates, {"exam": exam_texts, "exact_variants": sum(c.skeleton == row["skeleton"] for c in exam)}


def run(config: LbTConfig) -> dict:
    """Score every teaching problem, build the pairs, save; returns the stats."""
    from datasets import Dataset, DatasetDict
    from tqdm.auto import tqdm

    from tutor.backends import get_backend

    if config.torch_threads:
        import torch

        torch.set_num_threads(config.torch_threads)
    started = time.monotonic()
    teacher = get_backend(_profile(config, student=False))
    student = get_backend(_profile(config, student=True))
    rows = teaching_rows(config)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    pairs: list[dict] = []
    counts: Counter = Counter()
    with open(out / "rationales.jsonl", "w", encoding="utf-8") as log:
        for row in tqdm(rows, desc="teaching problems", unit="problem", disable=not config.progress):
            candidates, exam = score_problem(row, teacher, student, config)
            for c in candidates:
                counts[f"{c.source} {c.verdict}"] += 1
                log.write(json.dumps({**asdict(c), "family": row["family"], "problem": row["problem"],
                                      "exam": exam["exam"]}, ensure_ascii=False) + "\n")
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
                    "family": row["family"], "problem": row["problem"], "exam_size": len(exam["exam"]),
                })
    with open(out / "pairs.jsonl", "w", encoding="utf-8") as fh:
        for p in pairs:
            fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    if pairs:
        DatasetDict({"train": Dataset.from_list(pairs)}).save_to_disk(str(out / "dataset"))
    seconds = time.monotonic() - started
    stats = {"problems": len(rows), "pairs": len(pairs), "seconds": round(seconds, 1),
             "candidates": dict(counts), "config": asdict(config)}
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
    p.add_argument("--include-reference", action="store_true",
                   help="also score the engine's derivation as a candidate")
    p.add_argument("--canonical-letters", action="store_true",
                   help="prompt with the problem as the smollm2-ode profile does (compact LaTeX in y(x))")
    p.add_argument("--variant-search", type=int, default=12, help="generator seeds tried per exam")
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--torch-threads", type=int, default=None)
    p.add_argument("--no-progress", action="store_true")
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
    print(f"LbT: {stats['problems']} problems -> {stats['pairs']} pairs in {stats['seconds']} s "
          f"({config.out})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
