"""Load: 16 concurrent gradio_client sessions solve the 16 examples; every answer is its own and correct.

Each client streams /solve for a different example at the same moment.  An answer is
"uncrossed" when it shows its own problem, names its own method family, and its Final
Answer — read back from the page's Markdown — passes the checker against *its* problem.
"""
from __future__ import annotations

import json
import re
import threading
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
    from app import build_demo

    demo = build_demo()
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
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
