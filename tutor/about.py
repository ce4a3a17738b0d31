"""The About page: what the tutor does, which profile is active, its measured accuracy, its limits.

Accuracy comes from the report that ``python -m training.evaluate --out DIR`` writes
(``DIR/eval.json``: ``info.profile`` and ``info.heldout_family``; ``summary.splits`` — the test
split and the held-out family, shown side by side and labelled, as the README quotes them — each
with ``n``, ``pass1``, ``passk``, ``order_ok``, ``linear_ok``, ``type_ok``, ``classification_all``,
``hint_ok``; ``summary.overall`` only for a report without splits; ``summary.speed``).  Reports
are looked up in ``TUTOR_EVAL_REPORT`` (a file, or a folder searched for ``*.json``), then as
``eval.json`` under ``runs/eval/``, ``outputs/`` and ``assets/`` in the project; the newest one
whose profile is the active one is shown.  With none the page says "not evaluated yet" — never
a made-up figure.

Usage::

    from tutor.about import about_markdown, find_report
    text = about_markdown("symbolic", ["symbolic"])
"""
from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT_DIRS = ("runs/eval", "outputs", "assets")
REPORT_NAME = "eval.json"
_MAX_REPORT_BYTES = 50_000_000
#: The figures of one split (or summary.overall) of training.evaluate, as the page names them.
OVERALL = (("pass1", "verified pass@1"), ("passk", "verified best-of-n (pass@k)"),
           ("classification_all", "classification (order, linearity and type)"), ("order_ok", "order"),
           ("linear_ok", "linearity"), ("type_ok", "type"), ("hint_ok", "hint names the method"))
SPEED = (("seconds_per_solution", "seconds per solution", "{:g} s"), ("first_piece_s", "time to first text", "{:g} s"),
         ("tokens_per_second", "tokens per second", "{:g}"))


def _report_files() -> list[Path]:
    configured = (os.environ.get("TUTOR_EVAL_REPORT") or "").strip()
    files: list[Path] = []
    if configured:
        place = Path(configured)
        files += [place] if place.is_file() else sorted(place.rglob("*.json")) if place.is_dir() else []
    for folder in (ROOT / d for d in REPORT_DIRS):
        if folder.is_dir():
            files += sorted(folder.rglob(REPORT_NAME))
    return files


def _profile_of(data: dict) -> str | None:
    info = data.get("info")
    value = info.get("profile") if isinstance(info, dict) else data.get("profile")
    return value if isinstance(value, str) else None


def find_report(profile: str) -> tuple[Path, dict] | None:
    """The newest evaluation report for ``profile`` (path, data), or None."""
    found = []
    for file in _report_files():
        try:
            if file.stat().st_size > _MAX_REPORT_BYTES:
                continue
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and _profile_of(data) == profile:
            found.append((file.stat().st_mtime, file, data))
    if not found:
        return None
    _, file, data = max(found, key=lambda item: item[0])
    return file, data


#: How the page names training.evaluate's splits (``summary.splits``); the test split first.
SPLIT_LABELS = {"test": "test split", "heldout": "held-out family", "validation": "validation split",
                "train": "training split"}


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _mapping(data: object, key: str) -> dict:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def report_columns(data: dict) -> list[tuple[str, dict]]:
    """(heading, figures) per split of an evaluation report: the test split, then the held-out family.

    The README quotes the test split and, separately, the held-out family; the page shows the
    same figures side by side, each labelled, from the one report.  A report without
    ``summary.splits`` gives one column over all evaluated problems, labelled as such.
    """
    summary = _mapping(data, "summary")
    splits = {name: block for name, block in _mapping(summary, "splits").items() if isinstance(block, dict)}
    family = _mapping(data, "info").get("heldout_family")
    order = sorted(splits, key=lambda name: (list(SPLIT_LABELS).index(name) if name in SPLIT_LABELS
                                             else len(SPLIT_LABELS), name))
    columns = []
    for name in order:
        label = SPLIT_LABELS.get(name, f"{name} split")
        if name == "heldout" and isinstance(family, str) and family:
            label = f"held-out family ({family})"
        columns.append((label, splits[name]))
    if not columns and _mapping(summary, "overall"):
        columns.append(("all evaluated problems", _mapping(summary, "overall")))
    return columns


def report_metrics(data: dict) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(column headings, rows of (measure, one value per column)): only measures that are there."""
    columns = report_columns(data)
    rows = []
    if any(isinstance(block.get("n"), int) for _, block in columns):
        rows.append(("problems evaluated", [str(block["n"]) if isinstance(block.get("n"), int) else "—"
                                            for _, block in columns]))
    for key, name in OVERALL:
        values = [block.get(key) for _, block in columns]
        if any(_number(v) for v in values):
            rows.append((name, [f"{v:.1%}" if _number(v) else "—" for v in values]))
    return [heading for heading, _ in columns], rows


def speed_rows(data: dict) -> list[tuple[str, str]]:
    speed = _mapping(_mapping(data, "summary"), "speed")
    return [(name, fmt.format(speed[key])) for key, name, fmt in SPEED if _number(speed.get(key))]


def _table(first: str, headings: list[str], rows: list[tuple[str, list[str]]]) -> str:
    lines = [f"| {first} | " + " | ".join(headings) + " |", "|---" * (len(headings) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(values) + " |" for name, values in rows]
    return "\n".join(lines)


def accuracy_markdown(profile: str) -> str:
    found = find_report(profile)
    if found is None:
        return (f"**Measured accuracy:** not evaluated yet for `{profile}` "
                f"(`python -m training.evaluate --profile {profile} --data DIR --out runs/eval/{profile}` writes the "
                "report this page reads).")
    path, data = found
    headings, rows = report_metrics(data)
    speed = speed_rows(data)
    try:
        where = path.relative_to(ROOT)
    except ValueError:  # a report elsewhere on this server (TUTOR_EVAL_REPORT): its name, not its path
        where = Path(path.parent.name) / path.name
    if not rows and not speed:
        return f"**Measured accuracy:** the report `{where}` has no numeric results."
    parts = [f"**Measured accuracy** (from `{where}`):"]
    if rows:
        parts.append(_table("measure", headings, rows))
    if speed:
        parts.append(_table("speed", ["all evaluated problems"], [(name, [value]) for name, value in speed]))
    family = _mapping(data, "info").get("heldout_family")
    families = _mapping(_mapping(data, "summary"), "families")
    per_family = ", ".join(f"{name}{' (held out)' if name == family else ''} {block['pass1']:.0%}"
                           for name, block in families.items()
                           if isinstance(block, dict) and _number(block.get("pass1")))
    if per_family:
        parts.append(f"Verified pass@1 per family: {per_family}.")
    return "\n\n".join(parts)


def about_markdown(active: str, runnable: list[str]) -> str:
    """The About tab's text for the active profile and the profiles that can run here."""
    from tutor.profiles import load_profile

    try:
        profile = load_profile(active)
        what = profile.description or profile.model_label
        model = "" if profile.backend == "symbolic" else f" (model: {profile.model_label})"
    except Exception:  # a broken profile file must not break the page
        what, model = active, ""
    wanted = (os.environ.get("TUTOR_PROFILE") or "").strip()
    note = ""
    if wanted and wanted not in runnable:
        note = (f"\n\n*`TUTOR_PROFILE={wanted}` is set, but that profile cannot run here (its weights or "
                "server are missing), so the app started with the profile above.*")
    return f"""## What the tutor does

Type an ordinary differential equation in plain text (`y' + 2y = e^(-x), y(0) = 1`,
`dy/dx = x*y`, `(2xy + 3) dx + (x^2 - 1) dy = 0`) or LaTeX (`\\frac{{dy}}{{dx}} = 2y`). The tutor
streams a **classification** (order, linearity, type), a **hint** (the strategy), the **steps**
and the **final answer**, then checks that answer **by substitution** into the equation (and
the initial conditions). When a model's answer does not check out, the symbolic engine's verified
solution is offered instead.

- **Check** — paste your own answer: correct, incomplete (e.g. a constant missing) or wrong, with the reason.
- **Teach** — practice problems per method, difficulty and seed (same seed, same problem), revealed step
  by step, with a slope field.

## Active profile

**`{active}`** — {what}{model}
Profiles that can run here: {", ".join(f"`{n}`" for n in runnable)}.{note}

{accuracy_markdown(active)}

## Limits

- Ordinary differential equations in one unknown function; no systems, no PDEs.
- The symbolic engine knows the textbook methods (Laplace transform for step and impulse forcing,
  autonomous equations with their phase line, boundary value problems, separable, linear, exact,
  integrating factor, homogeneous, Bernoulli, Riccati, constant coefficients, undetermined
  coefficients, variation of parameters, Cauchy–Euler, reduction of order) and SymPy's solver beyond
  them; some equations have no closed form (an initial value problem then gets a numerical answer,
  labelled as such and never marked verified), and some take longer than the time limit — the tutor
  then says so.
- "Verified" means the answer satisfies the equation and conditions (symbolically, or numerically at
  random points when a proof does not finish). The checker says "could not decide" rather than guess.
- A language model can be wrong: its answer is always checked, and never shown as verified unless it is.
"""
