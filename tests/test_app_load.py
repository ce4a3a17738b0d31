"""Load: concurrent gradio_client sessions; every answer is its own and correct, heavy work never
starves light work, and a full heavy lane answers "busy, try again in N s".

1. 16 clients stream /solve for the 16 examples at the same moment.  An answer is "uncrossed" when
   it shows its own problem, names its own method family, and its Final Answer — read back from
   the page's Markdown — passes the checker against *its* problem.
2. Mixed load: 8 heavy requests (power bombs, seconds of SymPy each) fill the heavy lane and its
   line; then 24 light ones arrive: all 24 are answered, correctly and uncrossed, while heavy ones
   are still running, and every heavy one gets an honest answer (verified, "could not finish", or
   busy).  (How fast, with what p95, is measured by ``bench/app.py``, not asserted here.)
3. With a heavy lane of one worker and no line, a second heavy request is told at once when to
   come back, while a light one is still answered.
"""
from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest

from tutor import check, parse
from tutor.engine.registry import get

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = json.loads((ROOT / "assets" / "examples.json").read_text(encoding="utf-8"))
FINAL = re.compile(r"### Final Answer\n\$\$(?P<answer>.+?)\$\$", re.DOTALL)


@pytest.fixture(scope="module")
def url():
    from app import build_demo, launch_kwargs

    demo = build_demo()
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", **launch_kwargs())
    try:
        yield demo.local_url
    finally:
        demo.close()


def test_sixteen_concurrent_sessions_get_their_own_verified_answers(url) -> None:
    from gradio_client import Client

    assert len(EXAMPLES) >= 16
    examples = EXAMPLES[:16]
    results: dict[int, list[str]] = {}
    failures: dict[int, BaseException] = {}
    start = threading.Barrier(len(examples))

    def session(i: int) -> None:
        try:
            client = Client(url, verbose=False)
            start.wait(timeout=120)  # all submit together
            results[i] = list(client.submit(examples[i]["text"], api_name="/solve"))
        except BaseException as exc:  # reported below with the example that failed
            failures[i] = exc

    threads = [threading.Thread(target=session, args=(i,)) for i in range(len(examples))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=400)
    assert not failures, failures
    assert len(results) == len(examples)
    for i, example in enumerate(examples):
        final = results[i][-1]
        problem = parse(example["text"])
        assert final.startswith(f"$${problem.latex}$$"), (example, final[:200])
        assert "Verified by substitution." in final, (example, final[-400:])
        assert f"method: {get(example['family']).name}" in final, (example, final[:400])
        answer = FINAL.search(final).group("answer")
        assert check(problem, answer).verdict == "correct", (example, answer)


HEAVY = [f"(x+y)^{{{1000 + i}}} dx + dy = 0" for i in range(4)] + [f"y'' + y = sin(x)^{{{1000 + i}}}" for i in range(4)]
LIGHT = [f"y' = {k}y" for k in range(1, 25)]
BUSY = re.compile(r"busy right now.*try again in (\d+) s", re.DOTALL)
HONEST = ("Verified by substitution.", "Could not finish in time", "busy right now")


def _final(client, text: str) -> str:
    final = ""
    for final in client.submit(text, "symbolic", api_name="/solve"):
        pass
    return final


def test_light_requests_are_answered_while_heavy_ones_still_run(url) -> None:
    from gradio_client import Client

    from tutor import bounded

    texts = HEAVY + LIGHT
    clients = [Client(url, verbose=False) for _ in texts]
    finals: dict[int, str] = {}
    done_at: dict[int, float] = {}
    failures: dict[int, BaseException] = {}

    def session(i: int) -> None:
        try:
            finals[i] = _final(clients[i], texts[i])
            done_at[i] = time.monotonic()
        except BaseException as exc:  # reported below with the request that failed
            failures[i] = exc

    heavy_lane = bounded.lane(bounded.HEAVY)
    threads = [threading.Thread(target=session, args=(i,)) for i in range(len(texts))]
    for t in threads[:len(HEAVY)]:
        t.start()
    # the heavy lane is busy (and has a line) before the light requests come
    deadline = time.monotonic() + 60
    while heavy_lane.load()[0] < min(heavy_lane.workers, len(HEAVY)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert heavy_lane.load()[0] >= 1, "the heavy requests never reached the heavy lane"
    for t in threads[len(HEAVY):]:
        t.start()
    for t in threads:
        t.join(timeout=400)
    assert not failures, failures
    light = range(len(HEAVY), len(texts))
    heavy = range(len(HEAVY))
    for i in light:
        problem = parse(texts[i])
        assert finals[i].startswith(f"$${problem.latex}$$"), (texts[i], finals[i][:200])
        assert "Verified by substitution." in finals[i], (texts[i], finals[i][-400:])
        assert check(problem, FINAL.search(finals[i]).group("answer")).verdict == "correct", texts[i]
    computed = [i for i in heavy if not BUSY.search(finals[i])]
    assert computed, "every heavy request was refused"
    # the heavy lane holds at most its workers' worth of heavy work at a time, so the heavy
    # requests take several rounds; every light one is answered before those rounds are over
    assert max(done_at[i] for i in light) < max(done_at[i] for i in computed), \
        "the light requests waited until the heavy work was done"
    for i in heavy:
        assert finals[i].startswith(f"$${parse(texts[i]).latex}$$"), (texts[i], finals[i][:200])
        assert any(words in finals[i] for words in HONEST), (texts[i], finals[i][-400:])
        assert "Something went wrong" not in finals[i] and "Traceback" not in finals[i]


def test_a_full_heavy_lane_says_busy_and_when_to_come_back(url, monkeypatch) -> None:
    from gradio_client import Client

    from tutor import bounded

    bounded.shutdown()
    monkeypatch.setenv("TUTOR_HEAVY_WORKERS", "1")
    monkeypatch.setenv("TUTOR_HEAVY_QUEUE", "0")
    try:
        first, second, light = (Client(url, verbose=False) for _ in range(3))
        job = first.submit(HEAVY[0], "symbolic", api_name="/solve")
        deadline = time.monotonic() + 60
        while bounded.lane(bounded.HEAVY).load()[0] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        refused = _final(second, HEAVY[4])
        assert refused.startswith(f"$${parse(HEAVY[4]).latex}$$"), refused[:200]
        match = BUSY.search(refused)
        assert match and int(match.group(1)) >= 1, refused
        assert not job.done(), "the busy answer waited for the heavy request"
        answered = _final(light, "y' = 2y")
        assert "Verified by substitution." in answered, answered[-400:]
        assert any(words in job.result() for words in HONEST)
    finally:
        bounded.shutdown()  # the next test gets lanes with the default settings
