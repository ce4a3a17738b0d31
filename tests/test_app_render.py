"""The app's tutor helpers: tutor.render, tutor.availability, tutor.about, tutor.teaching (no server)."""
from __future__ import annotations

import json

import pytest

from pathlib import Path

from tutor import parse
from tutor.format import Sections, parse_sections
from tutor import render
from tutor.katex import formula_error

REPLY = """## Classification
First order, linear.

## Hint
Multiply by $\\mu = e^{2x}$.

## Steps
1. **Integrating factor.** $\\mu = e^{2x}$
2. **Integrate.** $(y e^{2x})' = e^{x}$, so $y e^{2x} = e^{x} + C$
3. **Divide.** $y = e^{-x} + C e^{-2x}$

## Final Answer
$y = e^{-x} + C e^{-2x}$
"""


# ------------------------------------------------------------------ streaming-safe math


@pytest.mark.parametrize("text, expected", [
    ("so $y = e^{2", "so …"),
    ("done $a$ and $$b = c", "done $a$ and …"),
    ("price \\$5 and $x$", "price \\$5 and $x$"),
    ("\\(x + 1", "…"),
    ("all $a$ closed $$b$$", "all $a$ closed $$b$$"),
])
def test_complete_math_drops_only_an_unclosed_formula(text: str, expected: str) -> None:
    assert render.complete_math(text).strip() == expected.strip()


def test_every_prefix_of_a_reply_renders_only_balanced_formulas() -> None:
    """The property behind "no KaTeX error flicker": at any cut, each $ is paired."""
    for cut in range(len(REPLY) + 1):
        sections = parse_sections(REPLY[:cut])
        view = render.SolveView("y' + 2y = e^{x}", sections=sections)
        md = render.solve_markdown(view)
        segments, unclosed = render.split_math(md)
        assert unclosed is None, (cut, md)


def test_sections_reveal_and_final_answer_display() -> None:
    sections = parse_sections(REPLY, done=True)
    full = render.sections_markdown(sections)
    assert "3. **Divide.**" in full and "$$y = e^{-x} + C e^{-2x}$$" in full
    none = render.sections_markdown(sections, steps_shown=0)
    assert "### Hint" in none and "1. " not in none and "3 more steps" in none
    assert "Hidden until" in none and "C e^{-2x}$$" not in none
    two = render.sections_markdown(sections, steps_shown=2)
    assert "2. **Integrate.**" in two and "3. " not in two and "1 more step " in two
    assert "$$y = e^{-x}" in render.sections_markdown(sections, steps_shown=4)


@pytest.mark.parametrize("mode, sequence", [
    ("step by step", [0, 1, 2, 3, 4, None]),
    ("hint only", [0, 3, 4, None]),
    ("full solution", [None, None]),
])
def test_next_reveal(mode: str, sequence: list) -> None:
    shown = render.initial_reveal(mode)
    seen = [shown]
    for _ in range(len(sequence) - 1):
        shown = render.next_reveal(mode, shown, 3)
        seen.append(shown)
    assert seen == sequence


def test_badges() -> None:
    ok = render.verdict_badge({"verdict": "correct", "reason": "It satisfies $y' = y$."})
    assert "Verified by substitution." in ok and "verdict-correct" in ok
    bad = render.verdict_badge({"verdict": "wrong", "reason": "Residual <b>x</b>"})
    assert "Not verified:" in bad and "<b>" not in bad  # the reason is escaped
    assert "Checking" in render.verdict_badge(None, pending=True)
    assert render.verdict_badge(None) == ""


def test_a_wrong_model_answer_is_replaced_by_the_engines_solution_in_the_main_view() -> None:
    """Issue 15: the engine's verified solution takes the main place; the model's attempt is
    collapsed below it, labelled, with its badge next to its own answer."""
    wrong = parse_sections(REPLY.replace("$y = e^{-x} + C e^{-2x}$\n", "$y = C e^{x}$\n"), done=True)
    view = render.SolveView("y' + 2y = e^{-x}", author="model", sections=wrong, done=True, source="model",
                            verdict={"verdict": "wrong", "reason": "Substituting gives ..."},
                            fallback=parse_sections(REPLY, done=True), fallback_label="Engine solution")
    md = render.solve_markdown(view)
    main, attempt = md.split('<details class="model-attempt">')
    assert "The model's answer is wrong" in main and "Substituting gives ..." in main
    assert main.index("wrong") < main.index("#### Engine solution") < main.index("### Final Answer")
    assert "C e^{-2x}" in main and "C e^{x}" not in main  # the wrong answer is not in the main view
    assert "engine — checked" in main and "model —" not in main
    assert main.count("Verified by substitution.") == 1 and main.index("### Final Answer") < main.index("Verified by")
    assert "<summary>The model’s unverified attempt (its answer is wrong)" in attempt
    assert "$$y = C e^{x}$$" in attempt and attempt.index("$$y = C e^{x}$$") < attempt.index("Not verified:")
    assert "model — not checked" in attempt and attempt.rstrip().endswith("</details>")
    # learning mode counts the main view's steps: the engine's
    assert view.main_sections is view.fallback
    assert "<details" not in render.solve_markdown(view, steps_shown=1)
    # the exports teach in the same order
    exported = render.export_markdown(view)
    assert exported.index("## Engine solution") < exported.index("## The model's unverified attempt")
    assert exported.index("## The model's unverified attempt") < exported.index("C e^{x}")
    tex = render.export_latex(view)
    assert tex.index("Engine solution") < tex.index("The model's unverified attempt") < tex.index("C e^{x}")


def test_model_sections_are_tagged_as_they_stream_and_flags_show() -> None:
    """Every part says who wrote it and its status; contradicted sections are flagged."""
    sections = parse_sections(REPLY.split("## Final Answer")[0] + "## Final Answer\n$y = C")
    view = render.SolveView("y' + 2y = e^{x}", sections=sections, source="model",
                            flags={"Hint": "The hint suggests Bernoulli equation; the engine finds that X applies here."})
    md = render.solve_markdown(view)
    for name in ("Classification", "Steps", "Final Answer"):
        assert f'### {name} <span class="tag tag-unchecked">model — not yet checked</span>' in md
    assert '### Hint <span class="tag tag-contradicted">model — the engine disagrees</span>' in md
    assert md.index("### Hint") < md.index('class="flag"') < md.index("Multiply by")
    assert "Verified" not in md and "Checking" not in md
    view.sections = parse_sections(REPLY)  # the answer line is complete: the check is running
    md = render.solve_markdown(view)
    assert md.index("### Final Answer") < md.index("Checking the answer by substitution")
    view.verdict, view.done = {"verdict": "correct", "reason": "It satisfies the equation."}, True
    md = render.solve_markdown(view)
    assert "model — not checked" in md and "not yet checked" not in md  # the steps stay unchecked
    assert "Final Answer <span" not in md and md.index("### Final Answer") < md.index("Verified by substitution.")
    engine = render.solve_markdown(render.SolveView("y' = y", sections=parse_sections(REPLY, done=True), done=True,
                                                    source="engine", verdict={"verdict": "correct", "reason": ""}))
    assert engine.count("engine — checked") == 3 and "model" not in engine


def test_a_wrong_answer_without_an_engine_solution_says_nothing_is_checked() -> None:
    view = render.SolveView("y' = y", sections=parse_sections(REPLY, done=True), done=True, source="model",
                            verdict={"verdict": "wrong", "reason": "No."})
    assert "found no verified solution" in render.solve_markdown(view)
    view.verdict = {"verdict": "correct", "reason": ""}
    assert "found no verified solution" not in render.solve_markdown(view)


def test_the_status_line_shows_while_working_and_goes_when_done() -> None:
    from tutor.session import Progress

    view = render.SolveView("y' = y", source="model", status=Progress("generating", 4.0, tokens=42, counted=True))
    md = render.solve_markdown(view)
    assert 'class="progress"' in md and "Generating the model's reply: 42 tokens in 4 s" in md
    view.done = True
    assert 'class="progress"' not in render.solve_markdown(view)


def test_exports() -> None:
    view = render.SolveView("y' + 2y = e^{-x}", sections=parse_sections(REPLY, done=True), done=True,
                            verdict={"verdict": "correct", "reason": "It satisfies the equation & more."})
    md = render.export_markdown(view)
    assert md.startswith("# ODE Tutor") and "## Steps" in md and "**Verified by substitution.**" in md
    tex = render.export_latex(view)
    assert "\\section*{Problem}" in tex and "\\begin{enumerate}" in tex
    assert "\\item \\textbf{Integrating factor.} $\\mu = e^{2x}$" in tex
    assert "\\[y = e^{-x} + C e^{-2x}\\]" in tex
    assert "equation \\& more." in tex  # prose is escaped, formulas are not


def test_problem_preview_and_parse_error_caret() -> None:
    assert "order **1**" in render.problem_preview("y' = 2y")
    err = render.problem_preview("y' = sin(x")
    assert "**Could not read this:**" in err and "```text\ny' = sin(x\n" in err
    assert "Too long" in render.problem_preview("y' = " + "x" * 50, max_chars=20)


def test_preview_shows_parameters_first_and_the_words_left_out() -> None:
    # A misreading shows in the parameters, so they lead the preview, in bold.
    lines = render.problem_preview("y' = k y + b").splitlines()
    assert lines[1] == "- **parameters: $b$, $k$** (letters read as constants)"
    assert lines[2].startswith("- unknown:")
    assert "**parameter: $k$**" in render.problem_preview("y' = ky")
    # "solve" is an instruction, not s·o·l·v·e: no parameters, and the preview says what was left out
    solved = render.problem_preview("solve y'=y")
    assert "parameter" not in solved and solved.startswith("$$y' = y$$")
    assert "words left out: “solve”" in solved
    assert "parameter" not in render.problem_preview("y' = 2y")
    # a word inside the mathematics is an error with a caret and a hint, not a product of letters
    err = render.problem_preview("y' = qwerty y")
    assert "**Could not read this:**" in err and "looks like a word" in err and "*Hint:*" in err


def test_answer_markdown_uses_textbook_notation() -> None:
    from tutor import parse_answer

    problem = parse("y'' + y = 0")
    md = render.answer_markdown(parse_answer("y = C_1 sin(x) + C_2 cos(x)", problem), problem)
    assert md.startswith("$$y = ") and "y{\\left(x" not in md and "C_{1}" in md


# ------------------------------------------------------------------ formulas KaTeX would refuse

#: A model's reply with broken formulas (tests/test_app_browser.py shows it in the page too).
BROKEN_REPLY = (Path(__file__).parent / "data" / "broken_reply.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("tex", [
    r"\ln{\left(y \right)} = C + \frac{x}{2}", r"\frac{dy}{dx} = 2y", r"\frac12 + x^\prime", r"y'' + y'^{2}",
    r"\left. \frac{dy}{dx} \right|_{x=0}", r"\sqrt[3]{x} \cdot \int_0^1 e^{-t^2}\,dt", r"\operatorname{sgn}(x)",
    r"\begin{cases} x & x > 0 \\ 0 & \text{otherwise} \end{cases}", r"\left\{ a \middle| b \right\}",
    r"\text{for } x \neq 0", r"\boxed{y = C e^{2x}}", r"\lim\limits_{x \to 0} \frac{\sin x}{x} = 1",
    r"50\% \text{ of } \{1, 2\}", r"\color{#dc2626} y",
])
def test_formulas_katex_renders_pass(tex: str) -> None:
    assert formula_error(tex) is None


@pytest.mark.parametrize("tex, why", [
    (r"\ln{\left(y \right)} = C + \frac{x}", "missing"),  # the formula from the issue
    (r"\frac{x}", "missing"), (r"\sqrt", "missing argument"), (r"x^", "missing argument"),
    (r"{x", "missing }"), (r"x}", "unexpected }"), (r"\frac{a}{b}}", "unexpected }"),
    (r"\left( x", r"missing \right"), (r"x \right)", r"unexpected \right"), (r"\left x \right)", "delimiter"),
    (r"\frac{1}{\left(x\right}", "delimiter"), (r"\foo{y}", r"unknown command \foo"), (r"\label{a}", "unknown"),
    (r"x^2^3", "double superscript"), (r"y^2'", "double superscript"), (r"x_1_2", "double subscript"),
    (r"a & b", "& outside"), (r"#", "unescaped #"), (r"\text{a^2}", "in text"), (r"\text{\alpha}", "in text"),
    (r"\begin{foo} a \end{foo}", "unknown"), (r"\begin{cases} a \end{aligned}", "another environment"),
    (r"\begin{align} a \end{align}", "only in display"), (r"\color{red!50} x", "invalid color"),
    (r"a \$ b", "unknown command"),  # Gradio pairs dollar signs, escaped or not
    (r"5% of {x", "comment"),  # KaTeX would hide the brace; the page's formula finder would not
])
def test_formulas_katex_would_refuse_are_caught(tex: str, why: str) -> None:
    reason = formula_error(tex)
    assert reason is not None and why in reason, reason


def test_display_only_environments_pass_in_display_math() -> None:
    assert formula_error(r"\begin{align} a &= b \\ c &= d \end{align}", display=True) is None


def _formulas(markdown: str) -> list[str]:
    segments, unclosed = render.split_math(markdown)
    assert unclosed is None, markdown  # every $ is paired
    return [piece for is_math, piece in segments if is_math]


def test_a_broken_formula_is_shown_as_code_and_never_as_math() -> None:
    text = r"so $\ln{\left(y \right)} = C + \frac{x}$ and $y = e^{x}$"
    safe = render.safe_math(text)
    assert _formulas(safe) == ["$y = e^{x}$"]
    assert '<code class="formula-source"' in safe and "&#92;frac&#123;x&#125;" in safe
    code = safe[safe.index("<code"):safe.index("</code>")]
    assert "$" not in code and "\\" not in code and "`" not in code  # nothing in it that Gradio reads
    assert render.safe_math("plain $x$ text") == "plain $x$ text"


def test_an_unmatched_dollar_is_code_when_done_and_held_back_while_streaming() -> None:
    text = "the price is $5 here\nnext line \\(y\\)"
    done = render.safe_math(text)
    assert _formulas(done) == ["\\(y\\)"] and "&#36;5 here</code>\nnext line \\(y\\)" in done
    assert render.safe_math("so $y = e^{2", live=True) == "so …"


def test_formulas_back_to_back_are_kept_apart() -> None:
    # Gradio looks for $$ first: "$a$$b$" would otherwise pair the middle "$$".
    assert render.safe_math("$a$$b$") == "$a$\u200b$b$"


def test_a_broken_model_reply_renders_every_formula_or_shows_it_as_code() -> None:
    problem = parse("y' = 2y")
    view = render.SolveView(problem.latex, author="model", sections=parse_sections(BROKEN_REPLY, done=True),
                            done=True, problem=problem, verdict={"verdict": "correct", "reason": "It satisfies $y' = 2y$."})
    md = render.solve_markdown(view)
    formulas = _formulas(md)
    assert formulas and all(render.renders(f) for f in formulas)
    assert md.count('class="formula-source"') == 4  # \frac{x}, ^{2 unbalanced, \mystery, the lone $5
    # The 40 repeated terms are shown as the checker read them: one term.
    assert "### Final Answer\n$$y = 40 C e^{2 x}$$" in md
    assert "C e^{2x} + C e^{2x}" not in md
    # Every streamed prefix is safe too (no formula KaTeX would refuse, every $ paired).
    for cut in range(0, len(BROKEN_REPLY), 7):
        live = render.SolveView(problem.latex, sections=parse_sections(BROKEN_REPLY[:cut]), problem=problem)
        assert all(render.renders(f) for f in _formulas(render.solve_markdown(live)))


def test_an_unreadable_final_answer_is_shown_as_written() -> None:
    problem = parse("y' = 2y")
    assert render.final_answer_latex("$y = C e^{2x}$", problem) == "y = C e^{2 x}"
    assert render.final_answer_latex("$y = \\frac{x}$", problem) is None
    assert render.final_answer_latex("no idea", problem) is None
    sections = parse_sections(REPLY.replace("$y = e^{-x} + C e^{-2x}$\n", "$y = \\frac{x}$\n"), done=True)
    md = render.solve_markdown(render.SolveView(problem.latex, sections=sections, done=True, problem=problem))
    assert "### Final Answer\n<code" in md


def test_exports_keep_broken_formulas_out_of_the_latex() -> None:
    problem = parse("y' = 2y")
    view = render.SolveView(problem.latex, sections=parse_sections(BROKEN_REPLY, done=True), done=True,
                            problem=problem)
    tex = render.export_latex(view)
    assert r"\texttt{\$\textbackslash{}ln" in tex and r"\[y = 40 C e^{2 x}\]" in tex
    assert "40 C e^{2 x}" in render.export_markdown(view)


def test_a_badge_reason_with_a_broken_formula() -> None:
    badge = render.verdict_badge({"verdict": "wrong", "reason": "It leaves $\\frac{x}$ and $x < 1$ <b>"})
    assert "<code" in badge and "$x < 1$" in badge and "&lt;b&gt;" in badge


@pytest.mark.parametrize("text", ["y' + 2y = e^(-x), y(0) = 1", "y'' + y = sec(x)", "(2xy + 3) dx + (x^2 - 1) dy = 0",
                                  "x^2 y'' + x y' - y = 0"])
def test_the_engines_formulas_all_render(text: str) -> None:
    from tutor import solve

    solution = solve(parse(text))
    md = render.sections_markdown(solution.to_sections())
    assert "formula-source" not in md and all(render.renders(f) for f in _formulas(md))


# ------------------------------------------------------------------ availability and about


def test_only_runnable_profiles_are_listed(monkeypatch, tmp_path) -> None:
    from tutor.availability import default_profile, runnable_profiles

    monkeypatch.delenv("TUTOR_PROFILE", raising=False)
    names = runnable_profiles()
    assert names[0] == "symbolic"
    assert "phi3-mini-ode" not in names  # its adapter is not configured here
    # Without a model the engine is the default (the shipped models: tests/test_smollm2_model.py).
    assert default_profile([n for n in names if n not in ("smollm2-ode", "smollm2-ode-tools")]) == "symbolic"

    # A local model whose weights are present becomes runnable and the default.
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    extra = tmp_path / "profiles.yaml"
    extra.write_text(f"profiles:\n  tiny-here:\n    backend: local\n    base_model: {model}\n")
    monkeypatch.setenv("TUTOR_PROFILES_FILE", str(extra))
    names = runnable_profiles()
    assert "tiny-here" in names
    assert default_profile(names) == "tiny-here"
    monkeypatch.setenv("TUTOR_PROFILE", "symbolic")
    assert default_profile(names) == "symbolic"


def test_about_says_not_evaluated_yet_without_a_report(monkeypatch, tmp_path) -> None:
    from tutor import about

    monkeypatch.setattr(about, "ROOT", tmp_path)
    monkeypatch.delenv("TUTOR_EVAL_REPORT", raising=False)
    text = about.about_markdown("symbolic", ["symbolic"])
    assert "not evaluated yet" in text and "`symbolic`" in text


def test_about_reads_the_evaluation_report(monkeypatch, tmp_path) -> None:
    from tutor import about

    report = {"info": {"profile": "symbolic"},
              "summary": {"overall": {"n": 40, "pass1": 0.975, "passk": 0.975, "classification_all": 1.0,
                                      "order_ok": 1.0, "linear_ok": 1.0, "type_ok": 1.0, "hint_ok": 0.95},
                          "families": {"separable": {"pass1": 1.0}},
                          "speed": {"seconds_per_solution": 0.8, "tokens_per_second": None}}}
    folder = tmp_path / "runs" / "eval" / "symbolic"
    folder.mkdir(parents=True)
    (folder / "eval.json").write_text(json.dumps(report))
    other = tmp_path / "runs" / "eval" / "other"
    other.mkdir()
    (other / "eval.json").write_text(json.dumps({**report, "info": {"profile": "other"}}))
    monkeypatch.setattr(about, "ROOT", tmp_path)
    text = about.accuracy_markdown("symbolic")
    assert "| verified pass@1 | 97.5% |" in text and "| problems evaluated | 40 |" in text
    assert "| seconds per solution | 0.8 s |" in text and "tokens per second" not in text
    assert "separable 100%" in text
    assert "not evaluated yet" in about.accuracy_markdown("tinyllama-ode")


def test_about_shows_the_test_split_and_the_held_out_family_apart(monkeypatch, tmp_path) -> None:
    """The tab showed figures over all evaluated problems while the README quoted the test split."""
    from tutor import about

    report = {"info": {"profile": "symbolic", "heldout_family": "bernoulli"},
              "summary": {"overall": {"n": 50, "pass1": 0.5, "classification_all": 0.82, "hint_ok": 0.76},
                          "splits": {"heldout": {"n": 10, "pass1": 0.0, "classification_all": 0.1, "hint_ok": 0.0},
                                     "test": {"n": 40, "pass1": 0.625, "classification_all": 1.0, "hint_ok": 0.95}},
                          "families": {"bernoulli": {"pass1": 0.0}, "separable": {"pass1": 0.625}},
                          "speed": {"seconds_per_solution": 0.8}}}
    folder = tmp_path / "runs" / "eval" / "symbolic"
    folder.mkdir(parents=True)
    (folder / "eval.json").write_text(json.dumps(report))
    monkeypatch.setattr(about, "ROOT", tmp_path)
    monkeypatch.delenv("TUTOR_EVAL_REPORT", raising=False)
    text = about.accuracy_markdown("symbolic")
    assert "| measure | test split | held-out family (bernoulli) |" in text  # test first, each labelled
    assert "| problems evaluated | 40 | 10 |" in text
    assert "| verified pass@1 | 62.5% | 0.0% |" in text
    assert "| classification (order, linearity and type) | 100.0% | 10.0% |" in text
    assert "50.0%" not in text and "82.0%" not in text  # the mixed overall figures are not shown
    assert "| seconds per solution | 0.8 s |" in text and "| speed | all evaluated problems |" in text
    assert "bernoulli (held out) 0%" in text and "separable 62%" in text


def test_about_and_readme_quote_the_same_test_split_figures() -> None:
    """The shipped smollm2-ode-tools report (the app's default model), as the About tab shows it, and
    the README's sentence about it."""
    from tutor import about

    data = json.loads((about.ROOT / "assets" / "models" / "smollm2-ode-tools" / "eval.json").read_text())
    test = data["summary"]["splits"]["test"]
    headings, rows = about.report_metrics(data)
    assert headings[0] == "test split"
    shown = dict(rows)
    assert shown["classification (order, linearity and type)"][0] == f"{test['classification_all']:.1%}"
    assert shown["hint names the method"][0] == f"{test['hint_ok']:.1%}"
    assert shown["verified pass@1"][0] == f"{test['pass1']:.1%}"
    readme = " ".join((about.ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"on the test split ({test['n']} examples" in readme
    assert f"classification (order, linearity and type) {test['classification_all']:.1%}" in readme
    assert f"method hint {test['hint_ok']:.1%}" in readme
    assert f"verified pass@1 {test['pass1']:.1%}" in readme


def test_the_page_shows_model_names_not_server_paths(monkeypatch, tmp_path) -> None:
    """The Solve tab's author line and the About tab named the profile's local model by its path."""
    import app
    from tutor import about
    from tutor.profiles import load_profile

    model = tmp_path / "srv" / "weights" / "my-tutor"
    adapter = tmp_path / "srv" / "adapters" / "my-adapter"
    model.mkdir(parents=True)
    adapter.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    (adapter / "adapter_config.json").write_text("{}")
    extra = tmp_path / "profiles.yaml"
    extra.write_text(f"profiles:\n  on-disk:\n    backend: local\n    base_model: {model}\n"
                     f"    adapter: {adapter}/\n")
    monkeypatch.setenv("TUTOR_PROFILES_FILE", str(extra))
    report = tmp_path / "reports" / "run7" / "eval.json"
    report.parent.mkdir(parents=True)
    report.write_text(json.dumps({"info": {"profile": "on-disk", "model": {"model": str(model)}},
                                  "summary": {"overall": {"n": 3, "pass1": 1.0}}}))
    monkeypatch.setenv("TUTOR_EVAL_REPORT", str(report))

    author = app._author(load_profile("on-disk"))
    assert "(my-tutor + adapter my-adapter)" in author and str(tmp_path) not in author
    page = about.about_markdown("on-disk", ["symbolic", "on-disk"])
    assert "(model: my-tutor + adapter my-adapter)" in page
    assert "from `run7/eval.json`" in page  # a report outside the project: its name, not its path
    assert str(tmp_path) not in page and "/srv/" not in page
    # the built-in profiles: a model-store base with a shipped adapter (a project folder), a hub id
    assert load_profile("smollm2-ode-tools").model_label == "smollm2-135m-instruct + adapter smollm2-ode-tools"
    assert load_profile("smollm2-ode").model_label == "smollm2-135m-instruct + adapter smollm2-ode"
    assert load_profile("lmt-tuning").model_label == "Sandesh-Zenteiq/LMT-tuning"
    assert str(about.ROOT) not in about.about_markdown("smollm2-ode-tools", ["symbolic", "smollm2-ode-tools"])


# ------------------------------------------------------------------ teaching


def test_random_method_is_chosen_by_the_seed() -> None:
    from tutor.teaching import pick_method

    assert pick_method("random", 5) == pick_method("random", 5)
    assert len({pick_method("random", s) for s in range(40)}) > 3
    assert pick_method("bernoulli", 5) == "bernoulli"
    with pytest.raises(KeyError):
        pick_method("no-such-method", 1)


def test_where_to_look() -> None:
    from tutor.teaching import where_to_look

    ivp = parse("y' = 2y, y(0) = 3")
    text = where_to_look(ivp, {"verdict": "wrong", "details": {"failed_condition": "y(0) = 3"}})
    assert "y(0) = 3" in text
    general = parse("y'' + y = 0")
    text = where_to_look(general, {"verdict": "incomplete",
                                   "details": {"constants_found": 1, "constants_expected": 2}})
    assert "2 arbitrary constants" in text
    assert where_to_look(general, {"verdict": "correct"}) == ""
