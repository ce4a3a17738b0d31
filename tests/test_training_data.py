"""training.data: rendering, dedup, verified examples, splits, saving, curated loaders (issue 7)."""
from __future__ import annotations

import json

import pytest
import sympy

from training import data as D
from tutor import check, parse
from tutor.format import answer_text, parse_sections


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small real build: two families, 3 problems each, a held-out family."""
    out = tmp_path_factory.mktemp("data")
    config = D.DataConfig(out=str(out), per_family=3, families=["separable", "first_order_linear"],
                          heldout_family="homogeneous", jobs=2, progress=False)
    rows, stats = D.build(config)
    D.save(rows, stats, config)
    return rows, stats, out


def test_every_example_answer_is_verified_by_the_checker_on_its_own_text(built):
    rows, _, _ = built
    assert len(rows) == 2 * 3 * 3  # 3 families x 3 problems x (plain, LaTeX)
    for row in rows:
        verdict = check(parse(row["problem"]), answer_text(row["answer"]))
        assert verdict.verdict == "correct", (row["problem"], row["answer"], verdict.reason)


def test_serialized_targets_parse_back_into_the_same_sections(built):
    rows, _, _ = built
    for row in rows:
        target = row["messages"][-1]["content"]
        assert row["completion"][0]["content"] == target
        sections = parse_sections(target, done=True)
        assert sections.classification and sections.hint and sections.steps
        assert sections.final_answer == row["answer"]
        assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
        assert row["problem"] in row["messages"][1]["content"]


def test_splits_balance_and_dedup(built):
    rows, stats, _ = built
    by_key: dict[str, set] = {}
    for row in rows:
        by_key.setdefault(row["canonical"], set()).add((row["split"], row["notation"]))
    for key, seen in by_key.items():
        assert {n for _, n in seen} == {"plain", "latex"}, "each problem is rendered both ways"
        assert len({s for s, _ in seen}) == 1, "both renderings of a problem share a split"
    assert {r["split"] for r in rows if r["family"] == "homogeneous"} == {"heldout"}
    for family in ("separable", "first_order_linear"):
        assert {r["split"] for r in rows if r["family"] == family} == {"train", "validation", "test"}
    assert stats["families"]["separable"]["kept"] == 3
    assert {r["difficulty"] for r in rows} == {1, 2, 3}


def test_saved_dataset_jsonl_and_card(built):
    rows, _, out = built
    dataset = D.load(out)
    assert sum(len(dataset[s]) for s in dataset) == len(rows)
    for split in D.SPLITS:
        lines = (out / "jsonl" / f"{split}.jsonl").read_text().splitlines()
        assert len(lines) == sum(r["split"] == split for r in rows)
        assert split not in dataset or len(dataset[split]) == len(lines)
    card = (out / "README.md").read_text()
    assert "| separable |" in card and "| **total** |" in card and "held-out family" in card
    assert json.loads((out / "stats.json").read_text())["problems"] == 9


def test_renderings_parse_back_to_the_same_problem():
    x = sympy.Symbol("x")
    y = sympy.Function("y")
    problem = parse("y'' + 2y' + y = x e^(-x), y(0) = 1, y'(0) = 0")
    for name, var in D.NAMINGS:
        renamed = D.rename(problem, name, var)
        for notation, styles in (("plain", ("prime", "leibniz")), ("latex", ("textbook", "leibniz"))):
            found = D._rendering(renamed, notation, styles)
            assert found is not None, (name, var, notation)
            assert D.same_problem(parse(found[0]), renamed)
    first_order = parse("(2*x*y + 3) dx + (x^2 - 1) dy = 0")
    text = D.render(first_order, "plain", "differential")
    assert " dx + " in text and D.same_problem(parse(text), first_order)
    assert D.canonical_key(D.rename(problem, "z", "s")) == D.canonical_key(problem)
    assert D.canonical_key(parse("y' = 2y")) == D.canonical_key(parse("2y - y' = 0"))
    assert D.canonical_key(parse("y' = 2y")) != D.canonical_key(parse("y' = 3y"))
    assert x in problem.equation.free_symbols and problem.function == y


def test_curated_loaders_keep_only_differential_equations(tmp_path):
    khan = tmp_path / "amps" / "khan"
    khan.mkdir(parents=True)
    (khan / "1.json").write_text(json.dumps({"problem": "Solve the differential equation $y' = 3y$.",
                                             "hints": ["Separate the variables.", "$y = Ce^{3x}$"]}))
    (khan / "2.json").write_text(json.dumps({"problem": "What is $2 + 3$?", "hints": ["$5$"]}))
    mathematica = tmp_path / "amps" / "mathematica"
    mathematica.mkdir()
    (mathematica / "a.txt").write_text("Problem:\nSolve y'' + y = 0\nAnswer:\ny = C1 cos(x) + C2 sin(x)\n")
    (mathematica / "b.txt").write_text("Problem:\nFactor x^2 - 1\nAnswer:\n(x-1)(x+1)\n")
    jsonl = tmp_path / "set.jsonl"
    jsonl.write_text(json.dumps({"problem": "y' = x, y(0) = 1", "answer": "y = x^2"}) + "\n"
                     + json.dumps({"problem": "Compute 7*6", "answer": "42"}) + "\n")
    assert len(list(D.read_curated(tmp_path / "amps"))) == 4
    rows, counts = D.load_curated(tmp_path / "amps")
    assert counts["read"] == 4 and counts["ODE"] == 2 and counts["not an ODE"] == 2
    assert {r["reference_verdict"] for r in rows} == {"correct"}
    assert {r["family"] for r in rows} <= {"separable", "first_order_linear", "constant_coefficients"}
    for row in rows:
        assert check(parse(row["problem"]), answer_text(row["answer"])).verdict == "correct"
    rows, counts = D.load_curated(jsonl)
    assert counts["ODE"] == 1 and rows[0]["reference_verdict"] == "wrong"  # y = x^2 misses y' = x


@pytest.mark.parametrize("family", ["homogeneous", "integrating_factor", "reduction_of_order",
                                    "variation_of_parameters"])
def test_generators_give_many_distinct_problems(family):
    """Training data and the Teach tab need fresh problems: 30 seeds give mostly distinct ones."""
    from tutor.engine.registry import get

    method = get(family)
    keys = {D.canonical_key(method.generate(seed, 1 + seed % 3).problem) for seed in range(30)}
    assert len(keys) >= 20, (family, len(keys))


# --------------------------------------------------------------------------- linear systems (issue 18)

@pytest.fixture(scope="module")
def built_systems(tmp_path_factory):
    """A small real build of the systems family alone: 3 problems, no held-out family."""
    out = tmp_path_factory.mktemp("systems")
    config = D.DataConfig(out=str(out), per_family=3, families=[D.SYSTEMS_FAMILY], heldout_family=None,
                          jobs=2, progress=False)
    rows, stats = D.build(config)
    D.save(rows, stats, config)
    return rows, stats, out


def test_system_rows_are_verified_systems_in_the_tutor_format(built_systems):
    rows, stats, _ = built_systems
    assert stats["families"][D.SYSTEMS_FAMILY]["kept"] == 3
    assert len(rows) == 2 * 3 and {r["family"] for r in rows} == {D.SYSTEMS_FAMILY}
    for row in rows:
        problem = parse(row["problem"])
        assert getattr(problem, "is_system", False), row["problem"]
        # the text is the generator's problem, read back
        generated = D.generate(row["family"], row["seed"], row["difficulty"]).problem
        assert D.same_problem(problem, generated), (row["problem"], generated.source)
        assert row["function"] == ",".join(f.__name__ for f in problem.functions) and row["variable"] == "t"
        target = row["completion"][0]["content"]
        sections = parse_sections(target, done=True)
        assert sections.classification and sections.hint and sections.steps
        assert sections.final_answer == row["answer"]
        verdict = check(problem, answer_text(row["answer"]))
        assert verdict.verdict == "correct", (row["problem"], row["answer"], verdict.reason)
        assert (row["order"], row["linear"], row["types"], row["method"]) == (1, True, [D.SYSTEMS_FAMILY],
                                                                                D.SYSTEMS_FAMILY)
        assert row["canonical"] == D.canonical_key(generated) and row["skeleton"].startswith("system|")


def test_system_rows_split_dedup_and_save(built_systems):
    rows, _, out = built_systems
    by_key: dict[str, set] = {}
    for row in rows:
        by_key.setdefault(row["canonical"], set()).add((row["split"], row["notation"]))
    assert len(by_key) == 3
    for seen in by_key.values():
        assert {n for _, n in seen} == {"plain", "latex"} and len({s for s, _ in seen}) == 1
    assert {r["split"] for r in rows} == {"train", "validation", "test"}
    dataset = D.load(out)
    assert sum(len(dataset[s]) for s in dataset) == len(rows)
    assert f"| {D.SYSTEMS_FAMILY} |" in (out / "README.md").read_text()


def test_system_renderings_parse_back_and_keys():
    problem = parse("x' = x/2 + 2y + e^t, y' = 3x - sin(2t) + 1, x(0) = 1, y(0) = -2")
    for notation, styles in (("plain", D.SYSTEM_PLAIN_STYLES), ("latex", D.SYSTEM_LATEX_STYLES)):
        for style in styles:
            text = D.render(problem, notation, style)
            assert text is not None, (notation, style)
            parsed = parse(text)
            assert D.same_problem(parsed, problem), (notation, style, text)
    assert D.render(problem, "plain", "matrix").startswith("X' = [[1/2, 2], [3, 0]] X + [")
    assert D.render(problem, "plain", "prime", explicit=True) is None
    # the comparison sees a changed entry, a changed condition, and a scalar equation
    assert not D.same_problem(parse("x' = x/2 + 3y + e^t, y' = 3x - sin(2t) + 1, x(0) = 1, y(0) = -2"), problem)
    assert not D.same_problem(parse("x' = x/2 + 2y + e^t, y' = 3x - sin(2t) + 1, x(0) = 1, y(0) = 2"), problem)
    assert not D.same_problem(parse("y' = 2y"), problem) and not D.same_problem(problem, parse("y' = 2y"))
    # u, v in s: the equations in Leibniz notation say so; the matrix form (x, y in t) cannot
    named = parse("du/ds = u + 2v, dv/ds = 3u")
    assert D._rendering(named, "plain", D.SYSTEM_PLAIN_STYLES)[1] == "leibniz"
    assert D.render(named, "plain", "matrix") is None
    # the key: the same system whatever the names or the notation; another system differs
    key = D.canonical_key(parse("x' = x + 2y, y' = 3x"))
    assert D.canonical_key(named) == key == D.canonical_key(parse("X' = [[1, 2], [3, 0]] X"))
    assert D.canonical_key(parse("x' = x + 2y, y' = 4x")) != key
    assert D.canonical_key(parse("x' = x + 2y, y' = 3x, x(0) = 1, y(0) = 0")) != key
    assert D.canonical_key(parse("y' = x + 2y")) != key
    # the skeleton: equal under coefficient changes, not when a coupling appears
    assert D.skeleton(parse("x' = 2x + 3y, y' = 5y")) == D.skeleton(parse("x' = 7x - 4y, y' = -2y"))
    assert D.skeleton(parse("x' = 2x + 3y, y' = 5y")) != D.skeleton(parse("x' = 2x + 3y, y' = 5x + 5y"))


def test_default_families_include_linear_systems(tmp_path, monkeypatch):
    from tutor.engine.registry import ids

    assert D.family_ids() == (*ids(), D.SYSTEMS_FAMILY)
    asked = []
    monkeypatch.setattr(D, "generate_family", lambda family, *a, **k: asked.append(family) or [])
    D.build(D.DataConfig(out=str(tmp_path), heldout_family=None, progress=False))
    assert asked == list(D.family_ids())
    with pytest.raises(SystemExit, match=D.SYSTEMS_FAMILY):
        D.build(D.DataConfig(out=str(tmp_path / "bad"), families=["no_such_method"], progress=False))


def test_compact_system_rows_keep_the_typed_prompts():
    """A canonical-letters profile is prompted with a system as typed (tutor.session.model_input)."""
    c = D.candidate(D.SYSTEMS_FAMILY, 5, 2, plain_style="matrix", latex_style="leibniz")
    assert not c.skip and c.plain.startswith("X' = [[") and "\\frac{dx}{dt}" in c.latex
    rows, why = D.make_examples(c, compact=True)
    assert not why and [r["notation"] for r in rows] == ["plain", "latex"]
    for row, text in zip(rows, (c.plain, c.latex)):
        assert row["prompt"][-1]["content"].endswith(text)
        assert check(parse(text), answer_text(row["answer"])).verdict == "correct"


def test_curated_systems_are_kept_as_systems(tmp_path):
    jsonl = tmp_path / "systems.jsonl"
    jsonl.write_text(json.dumps({"problem": "x' = y, y' = -x, x(0) = 1, y(0) = 0",
                                 "answer": "x = cos(t), y = -sin(t)"}) + "\n")
    rows, counts = D.load_curated(jsonl)
    assert counts["kept"] == 1 and rows[0]["reference_verdict"] == "correct"
    assert (rows[0]["family"], rows[0]["function"], rows[0]["variable"]) == (D.SYSTEMS_FAMILY, "x,y", "t")
