"""Tool-assisted derivations (tutor/tools.py): requests read by the whitelist readers, computed
exactly (bounded), answered into the stream; the serializer's targets; answers masked in the loss."""
from __future__ import annotations

import sympy

from tutor import tools
from tutor.tools import Request, ToolError, parse_request


def run_here(request):
    return tools.execute(request, bounded=False)


def answer(text: str) -> str:
    return run_here(parse_request(text))


def latex_value(markup: str) -> sympy.Expr:
    inner = markup[len(tools.ANSWER_OPEN):-len(tools.CLOSE)].strip()
    return tools._Symbols().expression(inner.split("=", 1)[-1])


def test_each_operation_computes_exactly() -> None:
    x, y, C = sympy.symbols("x y C")
    assert sympy.simplify(latex_value(answer("<<integrate: x e^{x}; x>>")) - (x - 1) * sympy.exp(x)) == 0
    assert latex_value(answer("<<diff: x^3; x; 2>>")) == 6 * x
    assert answer("<<roots: r^2 - 3 r + 2; r>>") == r"<<= r = 1,\quad r = 2>>"
    assert answer("<<roots: m^2 - 4 m + 4; m>>") == r"<<= m = 2\ (\times 2)>>"
    assert answer("<<roots: r^2 + 4; r>>") == r"<<= r = - 2 i,\quad r = 2 i>>"
    solved = answer(r"<<solve: y e^{2 x} = C + \frac{e^{3 x}}{3}; y>>")
    assert sympy.simplify(latex_value(solved) - (C * sympy.exp(-2 * x) + sympy.exp(x) / 3)) == 0
    assert latex_value(answer(r"<<subs: A \cos(x) + B \sin(x); A = 0; B = \frac{1}{3}>>")) == sympy.sin(x) / 3
    assert latex_value(answer("<<factor: x^2 - 1>>")) == (x - 1) * (x + 1)
    particular = answer(r"<<constants: y = C_1 \cos(2 x) + C_2 \sin(2 x); y(0) = 0; y'(0) = 1>>")
    assert latex_value(particular) == sympy.sin(2 * x) / 2
    assert answer(r"<<constants: y = \frac{2}{C - x^2}; y\left(0\right) = 1>>").startswith("<<= y =")


def test_bad_requests_say_why_and_the_reply_goes_on() -> None:
    assert answer("<<integrate: e^{x^2}; x>>") == "<<= ? the result needs erfi, which is not elementary>>"
    assert tools.execute(ToolError("unknown operation 'rm'")).startswith("<<= ? unknown operation")
    for text in ("<<rm: x>>", "<<integrate: x>>", "<<integrate: ; x>>", "<<integrate: x; 2>>"):
        try:
            request = parse_request(text)
        except ToolError:
            continue
        assert run_here(request).startswith("<<= ?"), text
    try:
        parse_request("<<integrate: " + "x + " * 200 + "x; x>>")
    except ToolError as exc:
        assert "too long" in str(exc)
    else:
        raise AssertionError("an over-long request was accepted")


def test_a_malicious_request_is_refused_without_executing_anything(monkeypatch) -> None:
    import builtins
    import os

    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a))
    real_eval = builtins.eval
    monkeypatch.setattr(builtins, "eval", lambda *a, **k: calls.append(a) or real_eval(*a, **k))
    for text in ("<<integrate: __import__('os').system('touch /tmp/pwned'); x>>",
                 "<<simplify: os.system('ls')>>",
                 r"<<simplify: \input{/etc/passwd}>>",
                 "<<solve: x = eval('1'); x>>"):
        out = answer(text)
        assert out.startswith("<<= ?"), (text, out)
    assert calls == []


def test_a_request_that_runs_too_long_times_out_in_its_worker() -> None:
    slow = Request("integrate", (r"\frac{e^{x} \sin(x^3) \cos(x^5)}{x^7 + \ln(x)}", "x"))
    out = tools.execute(slow, timeout=0.5)
    assert out.startswith("<<= ?") and ("timed out" in out or "no closed-form" in out or "could not" in out)


def test_the_paused_and_resumed_stream_equals_the_reply_assembled_offline() -> None:
    model_text = ("## Steps\n1. **Integrate.** <<integrate: 2 x; x>> so\n"
                  "2. **Roots.** <<roots: r^2 - 1; r>>\n3. **Bad.** <<integrate: ; x>> ok\n"
                  "## Final Answer\n$y = C e^{x^2}$\n")
    segments = []

    def continue_reply(prefix: str):
        # the fake model: the rest of its text after what it already said (answers removed),
        # streamed in 3-character pieces, stopping after the next request's '>>'
        said = tools._ANSWER.sub("", prefix)
        assert model_text.startswith(said)
        rest = model_text[len(said):]
        m = tools._REQUEST.search(rest)
        chunk = rest[:m.end()] if m else rest
        segments.append(chunk)
        for i in range(0, len(chunk), 3):
            yield chunk[i:i + 3]

    streamed = "".join(tools.stream_with_tools(continue_reply, run=run_here))
    assert streamed == tools.offline_reply([model_text], run_here)
    assert len(segments) == 4  # three requests: the model was paused three times
    assert "<<= x^2>>" in streamed and r"<<= r = -1,\quad r = 1>>" in streamed and "<<= ? an argument is empty>>" in streamed


def test_requests_per_reply_are_bounded() -> None:
    def continue_reply(prefix: str):
        if prefix.count("<<=") < 5:
            yield "<<expand: (x + 1)^2>>"

    streamed = "".join(tools.stream_with_tools(continue_reply, max_requests=2, run=run_here))
    assert streamed.count("<<= ? at most 2 requests per reply>>") == 3
    assert streamed.count("<<= x^2 + 2 x + 1>>") == 2


def test_the_serializer_writes_requests_whose_answers_the_runtime_gives() -> None:
    from tutor.checker import check
    from tutor.engine import solve
    from tutor.format import answer_text, parse_sections, serialize
    from tutor.parser import parse

    problem = parse("y' + 2y = e^x, y(0) = 1")
    sections, count = tools.tool_sections(solve(problem, method="first_order_linear"))
    text = serialize(sections)
    pairs = tools.requests_in(text)
    assert count >= 3 and len(pairs) == count
    for request, given in pairs:  # every answer in the target is exactly what the runtime returns
        assert isinstance(request, Request) and "<<= " + given + ">>" == run_here(request)
    assert {r.op for r, _ in pairs} >= {"integrate", "constants"}
    assert parse_sections(text, done=True).final_answer == sections.final_answer
    assert check(problem, answer_text(sections.final_answer)).verdict == "correct"


def test_tool_answers_are_masked_out_of_the_loss(smollm2_base) -> None:
    import torch

    from training.common import load_tokenizer, mask_tool_answers

    tokenizer = load_tokenizer(str(smollm2_base))
    reply = "1. **Integrate.** <<integrate: e^{3 x}; x>><<= \\frac{e^{3 x}}{3}>>\n2. **Next.** $y = C$"
    prompt = tokenizer.encode("prompt text", add_special_tokens=False)
    ids = tokenizer.encode(reply, add_special_tokens=False)
    labels = torch.tensor([[-100] * len(prompt) + ids])
    masked = mask_tool_answers(labels, tokenizer)
    kept = tokenizer.decode([t for t in masked[0].tolist() if t != -100])
    dropped = tokenizer.decode([t for t, m in zip(labels[0].tolist(), masked[0].tolist()) if m == -100 and t != -100])
    assert kept == reply.replace("<<= \\frac{e^{3 x}}{3}>>", "")
    assert dropped == "<<= \\frac{e^{3 x}}{3}>>"


def _scripted_server(monkeypatch, script: list[str], bodies: list[dict]) -> None:
    """The remote backend talks to a mock OpenAI-compatible server that streams ``script[i]`` as its
    i-th answer (leaving the stop string '>>' out, as vLLM does) and records each request body."""
    import json

    import httpx

    import tutor.backends.remote as remote

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        text = script[len(bodies) - 1]
        events = [f'data: {json.dumps({"choices": [{"delta": {"content": text[i:i + 4]}, "finish_reason": None}]})}'
                  for i in range(0, len(text), 4)]
        events += ['data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}', "data: [DONE]"]
        return httpx.Response(200, text="\n\n".join(events) + "\n\n", headers={"content-type": "text/event-stream"})

    real_client = httpx.Client
    monkeypatch.setattr(remote.httpx, "Client", lambda **kw: real_client(transport=httpx.MockTransport(handler), **kw))
    monkeypatch.setenv("TUTOR_REMOTE_URL", "http://model-server:8000")


def test_the_remote_backend_stops_at_each_request_and_continues_the_assistant_message(monkeypatch) -> None:
    import tutor.backends.remote as remote
    from tutor.profiles import load_profile

    bodies = []
    script = ["## Steps\n1. **Integrate.** <<integrate: 2 x; x", "\n## Final Answer\n$y = x^2 + C$\n"]
    _scripted_server(monkeypatch, script, bodies)
    profile = load_profile("remote", prompt_format="tools")
    reply = "".join(remote.RemoteBackend(profile).stream("y' = 2x"))
    assert reply == ("## Steps\n1. **Integrate.** <<integrate: 2 x; x>><<= x^2>>"
                     "\n## Final Answer\n$y = x^2 + C$\n")
    assert [b["stop"] for b in bodies] == [[">>"], [">>"]]
    assert "continue_final_message" not in bodies[0]
    assert bodies[1]["messages"][-1] == {"role": "assistant",
                                         "content": "## Steps\n1. **Integrate.** <<integrate: 2 x; x>><<= x^2>>"}
    assert bodies[1]["continue_final_message"] is True and bodies[1]["add_generation_prompt"] is False
    # best-of-n through the server: each candidate's requests are answered too, and it is sampled
    bodies.clear()
    script[:] = script * 2
    candidates = remote.RemoteBackend(profile).complete("y' = 2x", n=2)
    assert candidates == [reply, reply]
    assert len(bodies) == 4 and all(b["temperature"] > 0 and b["stream"] for b in bodies)


def test_lbt_one_shot_exams_of_a_tools_adapter_get_their_requests_answered(monkeypatch) -> None:
    """training.lbt --prompt-format tools: the student's one-shot exam (any chat) is a tools reply
    whose requests the runtime answers, and its Final Answer is read in that format."""
    import tutor.backends.remote as remote
    from training import lbt
    from tutor.format import FORMATS
    from tutor.profiles import load_profile

    bodies: list[dict] = []
    script = ["## Steps\n1. **Integrate.** <<integrate: 4 x; x", "\n## Final Answer\n$y = 2 x^2 + C$\n"] * 2
    _scripted_server(monkeypatch, script, bodies)
    rationale = "## Steps\n1. **Integrate.** <<integrate: 2 x; x>><<= x^2>>\n## Final Answer\n$y = x^2 + C$\n"
    chat = lbt.one_shot_messages("y' = 2x", rationale, "y' = 4x", "tools")
    assert chat[0] == {"role": "system", "content": FORMATS["tools"].system_prompt}
    assert chat[2] == {"role": "assistant", "content": rationale} and chat[-1]["role"] == "user"
    replies = lbt.exam_replies(remote.RemoteBackend(load_profile("remote", prompt_format="tools")), [chat], 2)
    expected = "## Steps\n1. **Integrate.** <<integrate: 4 x; x>><<= 2 x^2>>\n## Final Answer\n$y = 2 x^2 + C$\n"
    assert replies == [[expected, expected]]
    assert len(bodies) == 4 and all(b["messages"][:4] == chat for b in bodies)
    assert bodies[1]["messages"][-1] == {"role": "assistant", "content": expected.split("\n## Final")[0]}
    assert lbt._final(expected, "tools") == "y = 2 x^2 + C"
    config = lbt.parse_args(["--data", "d", "--out", "o", "--base-model", "b", "--prompt-format", "tools"])
    assert lbt._profile(config, student=True).prompt_format == "tools"
