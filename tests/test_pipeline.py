"""The pipeline at scale (issue 19): resumable logs, generation through a server with many requests
in flight, retries when the server drops connections, and Ray vs the local pool giving the same
verdicts and the same data."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fake_openai import fake_server
from training.pipeline import ResultLog, retrying, run_items

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- the log and the runner

def test_result_log_resumes_and_cuts_a_half_written_line(tmp_path):
    path = tmp_path / "log.jsonl"
    log = ResultLog(path)
    log.append({"id": "a", "v": 1})
    log.append({"id": "b", "v": 2})
    with open(path, "a", encoding="utf-8") as fh:  # a crash in the middle of a write
        fh.write('{"id": "c", "v"')
    again = ResultLog(path)
    assert set(again.records) == {"a", "b"} and "c" not in again
    again.append({"id": "c", "v": 3})
    lines = path.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b", "c"]
    assert len(ResultLog(path, fresh=True)) == 0 and not path.exists()


def test_run_items_skips_done_items_and_reports_failures(tmp_path):
    log = ResultLog(tmp_path / "log.jsonl")
    log.append({"id": "1", "square": 1})
    calls = []

    def work(x):
        calls.append(x)
        if x == 3:
            raise ValueError("three is refused")
        return {"square": x * x}

    report = run_items(((str(x), x) for x in range(1, 6)), work, log, concurrency=3, progress=False)
    assert sorted(calls) == [2, 3, 4, 5]  # 1 was done
    assert report.done == 3 and report.skipped == 1 and list(report.failed) == ["3"]
    assert "run the same command again" in report.describe()
    assert {k: v["square"] for k, v in log.records.items()} == {"1": 1, "2": 4, "4": 16, "5": 25}
    # the rerun tries only the failed item
    calls.clear()
    assert run_items(((str(x), x) for x in range(1, 6)), work, log, progress=False).skipped == 4
    assert calls == [3]


def test_retrying_backs_off_on_transient_errors_only():
    from tutor.backends import BackendError

    waits, attempts = [], []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise BackendError("connection dropped")
        return "ok"

    assert retrying(flaky, tries=4, backoff=0.5, sleep=waits.append)() == "ok"
    assert len(waits) == 2 and 0.5 <= waits[0] <= 0.625 and 1.0 <= waits[1] <= 1.25
    refused = BackendError("HTTP 400")
    refused.transient = False
    attempts.clear()

    def bad_request():
        attempts.append(1)
        raise refused

    with pytest.raises(BackendError):
        retrying(bad_request, tries=4, sleep=waits.append)()
    assert len(attempts) == 1  # a client error is not retried
    with pytest.raises(ValueError):
        retrying(lambda: (_ for _ in ()).throw(ValueError("a bug")), sleep=waits.append)()


# --------------------------------------------------------------------------- evaluation through a server

@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    """Six verified separable problems (12 examples) from the real generator."""
    from training.data import DataConfig, build, save

    out = tmp_path_factory.mktemp("data")
    config = DataConfig(out=str(out), per_family=6, families=["separable"], heldout_family=None,
                        validation_fraction=0, test_fraction=0.5, progress=False)
    rows, stats = build(config)
    save(rows, stats, config)
    return out, rows


def _replier(rows):
    """The fake model: the engine's reference reply for even-numbered problems (correct), the
    same reply with its answer replaced for the others (wrong)."""
    references = {}
    for i, row in enumerate(sorted(rows, key=lambda r: r["id"])):
        reply = row["completion"][0]["content"]
        if i % 2:
            head, _, _ = reply.rpartition("Final Answer")
            reply = head + "Final Answer\ny = 12345 x\n"
        references[row["problem"]] = reply

    def reply(messages):
        asked = messages[-1]["content"] if messages else ""
        for problem, text in sorted(references.items(), key=lambda kv: -len(kv[0])):
            if problem in asked:
                return text
        return "Classification\nunknown\n"
    return reply


def _verdicts(out: Path) -> dict:
    result = json.loads((out / "eval.json").read_text())
    return {r["id"]: (r["verdict"], r["final_answer"], r["sample_verdicts"], r["error"]) for r in result["records"]}


def _evaluate(data: Path, out: Path, url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "training.evaluate", "--profile", "tinyllama-ode", "--data", str(data),
            "--out", str(out), "--splits", "train", "validation", "test", "--server", url, "--k", "2", "--no-progress", *extra]


@pytest.mark.slow
def test_evaluation_killed_and_resumed_equals_an_uninterrupted_run(small_data, tmp_path):
    data, rows = small_data
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    with fake_server(_replier(rows), delay=0.3) as server:
        whole = tmp_path / "whole"
        subprocess.run(_evaluate(data, whole, server.url, "--concurrency", "4"), env=env, check=True,
                       capture_output=True, timeout=300)
        assert server.most_in_flight >= 2, "requests were in flight together"
        requests_whole = server.requests

        cut = tmp_path / "cut"
        proc = subprocess.Popen(_evaluate(data, cut, server.url, "--concurrency", "2"), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        records = cut / "records.jsonl"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and (not records.exists() or len(records.read_text().splitlines()) < 3):
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        finished_before = len(ResultLog(records))
        assert 3 <= finished_before < len(rows), "killed in the middle of the run"
        before = server.requests
        subprocess.run(_evaluate(data, cut, server.url), env=env, check=True, capture_output=True, timeout=300)
        resumed_requests = server.requests - before
    assert _verdicts(cut) == _verdicts(whole)
    verdicts = [v[0] for v in _verdicts(whole).values()]
    assert verdicts.count("correct") == len(rows) // 2 and verdicts.count("wrong") == len(rows) - len(rows) // 2
    # the resumed run asked only for the examples the killed one had not logged (2 requests each:
    # the greedy reply and one request for the k = 2 samples)
    assert resumed_requests == 2 * (len(rows) - finished_before)
    assert requests_whole == 2 * len(rows)


def test_server_dropping_connections_loses_no_example(small_data, tmp_path):
    from training.evaluate import EvalConfig, run

    data, rows = small_data
    config = dict(profile="tinyllama-ode", data=str(data), splits=["train", "validation", "test"], k=2, progress=False,
                  concurrency=3, retries=8)
    with fake_server(_replier(rows)) as clean:
        run(EvalConfig(out=str(tmp_path / "clean"), server=clean.url, **config))
    with fake_server(_replier(rows), drop_every=4) as flaky:
        result = run(EvalConfig(out=str(tmp_path / "flaky"), server=flaky.url, **config))
    assert flaky.dropped >= len(rows) // 2, "the server really dropped connections"
    assert result["info"]["failed"] == {} and len(result["records"]) == len(rows)
    assert _verdicts(tmp_path / "flaky") == _verdicts(tmp_path / "clean")
    assert all(not v[3] for v in _verdicts(tmp_path / "flaky").values()), "no drop recorded as a model error"


def test_a_dead_server_fails_examples_for_the_next_run_not_as_wrong_answers(small_data, tmp_path):
    from training.evaluate import EvalConfig, run

    data, rows = small_data
    port = _free_port()
    config = EvalConfig(profile="tinyllama-ode", data=str(data), out=str(tmp_path / "e"), splits=["train", "validation", "test"],
                        k=1, progress=False, server=f"http://127.0.0.1:{port}", retries=2)
    result = run(config)
    assert result["records"] == [] and len(result["info"]["failed"]) == len(rows)
    assert "could not be reached" in next(iter(result["info"]["failed"].values()))
    with fake_server(_replier(rows), port=port):
        again = run(config)  # the same command once the server is up
    assert len(again["records"]) == len(rows) and again["info"]["failed"] == {}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- LbT through a server

def test_lbt_through_a_server_and_rerun_is_idempotent(small_data, tmp_path):
    from training import lbt

    data, rows = small_data
    with fake_server(_replier(rows)) as server:
        config = lbt.LbTConfig(data=str(data), out=str(tmp_path / "lbt"), base_model="unused-when-served",
                               server=server.url, k=2, exam_size=1, m=2, max_problems=2, include_reference=True,
                               variant_search=4, concurrency=4, executor="local", progress=False)
        stats = lbt.run(config)
        pairs_text = (tmp_path / "lbt" / "pairs.jsonl").read_text()
        asked = server.requests
        # per problem: one teacher request (n = 2), one exam request per candidate (n = m = 2)
        assert asked == 2 * (1 + 3)
        assert all(b.get("n") == 2 for b in server.bodies)
        again = lbt.run(config)
        assert server.requests == asked, "a rerun asks the server nothing"
    assert stats["scored"] == 2 and again["pairs"] == stats["pairs"]
    assert (tmp_path / "lbt" / "pairs.jsonl").read_text() == pairs_text
    rationales = [json.loads(line) for line in (tmp_path / "lbt" / "rationales.jsonl").read_text().splitlines()]
    assert len(rationales) == 2 * 3
    assert {r["verdict"] for r in rationales if r["source"] == "reference"} == {"correct"}
    for r in rationales:
        assert len(r["exam_verdicts"]) == 1 and len(r["exam_verdicts"][0]) == 2


def test_lbt_teaching_rows_per_family_keeps_the_first_unique_problems(small_data, tmp_path):
    from training import lbt

    data, rows = small_data
    config = lbt.parse_args(["--data", str(data), "--out", str(tmp_path), "--base-model", "b", "--per-family", "1"])
    chosen = lbt.teaching_rows(config)
    every = lbt.teaching_rows(lbt.parse_args(["--data", str(data), "--out", str(tmp_path), "--base-model", "b"]))
    assert len(every) >= 2 and chosen == every[:1]  # both renderings of a problem count once
    assert len({r["canonical"] for r in every}) == len(every)


# --------------------------------------------------------------------------- Ray and the local pool

CHECKS = [
    ("y' = y", "y = C e^{x}"), ("y' = y", "y = x"), ("y'' + y = 0", "y = A cos x + B sin x"),
    ("y'' + y = 0", "y = cos x"), ("y' = y, y(0) = 2", "y = 2 e^x"), ("y' = y, y(0) = 2", "y = e^x"),
    ("y' = 2xy", "y = C exp(x^2)"), ("y' = y", ""), ("y' = y", "y = = ="), ("x y' = y", "y = C x"),
]


@pytest.mark.slow
def test_ray_and_the_local_pool_give_identical_verdicts_and_data(tmp_path):
    pytest.importorskip("ray", reason="Ray is in requirements.txt; this test needs it installed")
    import ray

    from training.data import DataConfig, build
    from training.fanout import verify_many
    from tutor.parser import parse

    items = [(parse(problem), answer, 20.0) for problem, answer in CHECKS]
    local = verify_many(items, executor="local")
    assert local[:7] == ["correct", "wrong", "correct", "incomplete", "correct", "wrong", "correct"]
    assert local[7] == "no answer"
    try:
        on_ray = verify_many(items, executor="ray", workers=2)
        assert on_ray == local
        config = dict(per_family=2, families=["separable", "exact"], heldout_family=None, jobs=2, progress=False)
        rows_local, _ = build(DataConfig(out=str(tmp_path / "a"), executor="local", **config))
        rows_ray, _ = build(DataConfig(out=str(tmp_path / "b"), executor="ray", **config))
    finally:
        ray.shutdown()
    assert rows_ray == rows_local and len(rows_local) == 2 * 2 * 2


def test_data_generation_resumes_family_by_family(tmp_path, monkeypatch):
    import training.data as data

    config = dict(per_family=2, families=["separable", "exact"], heldout_family=None, progress=False)
    whole, _ = data.build(data.DataConfig(out=str(tmp_path / "whole"), **config))
    # a run that dies in the second family ...
    real = data.generate_family

    def dies_in_exact(family, *args, **kwargs):
        if family == "exact":
            raise KeyboardInterrupt
        return real(family, *args, **kwargs)

    monkeypatch.setattr(data, "generate_family", dies_in_exact)
    with pytest.raises(KeyboardInterrupt):
        data.build(data.DataConfig(out=str(tmp_path / "cut"), **config))
    monkeypatch.setattr(data, "generate_family", real)
    logged = ResultLog(tmp_path / "cut" / "work" / "families.jsonl")
    assert list(logged.records) == ["separable"]
    # ... and its rerun generates only the rest, to the same rows
    generated = []
    monkeypatch.setattr(data, "generate_family", lambda family, *a, **k: generated.append(family) or real(family, *a, **k))
    resumed, _ = data.build(data.DataConfig(out=str(tmp_path / "cut"), **config))
    assert generated == ["exact"] and resumed == whole


def test_tools_conversion_resumes_row_by_row(small_data, tmp_path, monkeypatch):
    import training.data as data

    source, rows = small_data
    whole, _ = data.convert_tools(source, tmp_path / "whole")
    log = tmp_path / "cut" / "work" / "tools.jsonl"
    data.convert_tools(source, tmp_path / "cut")
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:-3]) + "\n" + lines[-3][:20])  # 3 rows lost, one half-written
    converted = []
    real = data._tool_example_job
    monkeypatch.setattr(data, "_tool_example_job", lambda job: converted.append(job[0]["id"]) or real(job))
    cut, _ = data.convert_tools(source, tmp_path / "cut")
    assert len(converted) == 3
    for split in ("train", "validation", "test"):
        a, b = whole / "jsonl" / f"{split}.jsonl", cut / "jsonl" / f"{split}.jsonl"
        assert a.read_text() == b.read_text()
