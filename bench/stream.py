"""Streaming benchmark: what live streaming, section parsing and the server hop cost.

On a locally built random-weight Llama (``training.tiny_model --preset bench``, >= 20M
parameters; speed does not depend on the weights' values) it measures, for N new tokens
(default 256, forced with ``min_new_tokens`` so every run generates exactly N):

1. raw ``model.generate`` (no streamer): tokens/s;
2. the local backend (generate in a thread + ``TextIteratorStreamer``) with the tutor format
   parsed live after every piece: tokens/s, time to first piece, and the overhead vs (1);
3. memory footprint (``get_memory_footprint``) and tokens/s of NF4 (double quant) vs bf16;
4. the remote backend (with live parsing) vs a direct streaming HTTP request to the same
   ``transformers serve`` process: total time and time to first piece.

Run::

    python -m bench.stream                 # all of it, a few minutes on 2 CPU cores
    python -m bench.stream --tokens 64 --runs 1 --no-remote
    python -m bench.stream --model smollm2-ode --no-remote   # the real shipped model (NF4 vs bf16 base)

Figures are medians over ``--runs`` runs; CPU timings on a shared machine are noisy.
"""
from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from serving import transformers_serve  # noqa: E402  (test support: start a local server)

logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
logging.getLogger("transformers").setLevel(logging.ERROR)

PROBLEM = "y'' + 2y' + y = e^(-x), y(0) = 1, y'(0) = 0"


def build_model(out: Path, tokens: int) -> Path:
    from transformers import GenerationConfig

    from training.tiny_model import build

    build(out, preset="bench")
    config = GenerationConfig.from_pretrained(out)
    config.min_new_tokens = tokens  # a random model may say <|end|> early; force N tokens
    config.max_new_tokens = tokens
    config.save_pretrained(out)
    return out


def profile_for(model_dir: Path, quantization: str, dtype: str, tokens: int, adapter: str | None = None):
    from tutor.profiles import Generation, load_profile

    return load_profile("local", base_model=str(model_dir), adapter=adapter, quantization=quantization,
                        compute_dtype=dtype, generation=Generation(max_new_tokens=tokens))


def forcing(backend, tokens: int):
    """Every generate call of ``backend`` makes exactly ``tokens`` new tokens (a real model stops
    when it is done; a benchmark compares equal work)."""
    settings_fn = backend.generation_settings

    def settings(n: int = 1) -> dict:
        return {**settings_fn(n), "min_new_tokens": tokens, "max_new_tokens": tokens}

    backend.generation_settings = settings
    return backend


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench_local(model_dir: Path, tokens: int, runs: int, quantization: str, dtype: str,
                adapter: str | None = None) -> dict:
    import torch

    from tutor.backends.local import LocalBackend, StreamStats
    from tutor.session import LiveSections

    backend = forcing(LocalBackend(profile_for(model_dir, quantization, dtype, tokens, adapter)), tokens)
    model = backend.model
    inputs = backend.prompt_inputs(PROBLEM)
    settings = backend.generation_settings()
    with torch.inference_mode():  # warm-up (first-call allocations, bnb repacking)
        model.generate(**inputs, **{**settings, "max_new_tokens": 8, "min_new_tokens": 8})

    raw_s, raw_first_s, streamed_s, first_s, parse_s = [], [], [], [], []
    # CPU seconds of this process: the work done, which other processes' load hardly changes
    # (wall time on a shared 2-core machine swings by +-20% from run to run).
    raw_cpu, streamed_cpu = [], []
    for _ in range(runs):  # interleaved, so load from other processes hits both alike
        # Raw time to first token: generate exactly one token (prefill + one decode step).
        started = time.perf_counter()
        with torch.inference_mode():
            model.generate(**inputs, **{**settings, "max_new_tokens": 1, "min_new_tokens": 1})
        raw_first_s.append(time.perf_counter() - started)

        started, cpu = time.perf_counter(), time.process_time()
        with torch.inference_mode():
            out = model.generate(**inputs, **settings)
        raw_s.append(time.perf_counter() - started)
        raw_cpu.append(time.process_time() - cpu)
        assert out.shape[1] - inputs["input_ids"].shape[1] == tokens

        stats = StreamStats()
        live = LiveSections(backend.profile.format)
        parsing = 0.0
        started, cpu = time.perf_counter(), time.process_time()
        for piece in backend.stream(PROBLEM, stats):
            t = time.perf_counter()
            live.feed(piece)
            parsing += time.perf_counter() - t
        streamed_s.append(time.perf_counter() - started)
        streamed_cpu.append(time.process_time() - cpu)
        first_s.append(stats.first_piece_s or float("nan"))
        parse_s.append(parsing)
        assert stats.tokens == tokens, stats
    raw, streamed = median(raw_s), median(streamed_s)
    return {
        "quantization": quantization, "dtype": dtype,
        "parameters_m": round(model.num_parameters() / 1e6, 1),
        "memory_mb": round(model.get_memory_footprint() / 2**20, 1),
        "raw_tok_s": round(tokens / raw, 1),
        "backend_tok_s": round(tokens / streamed, 1),
        "raw_first_token_ms": round(median(raw_first_s) * 1000, 1),
        "backend_first_piece_ms": round(median(first_s) * 1000, 1),
        "parse_ms_total": round(median(parse_s) * 1000, 2),
        "overhead_pct": round(100 * (streamed - raw) / raw, 1),
        "cpu_overhead_pct": round(100 * (median(streamed_cpu) - median(raw_cpu)) / median(raw_cpu), 1),
        # Best runs: the least disturbed by other processes on a shared machine.
        "overhead_best_pct": round(100 * (min(streamed_s) - min(raw_s)) / min(raw_s), 1),
    }


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def bench_remote(model_dir: Path, tokens: int, runs: int) -> dict:
    import httpx

    from tutor.backends.remote import RemoteBackend, chat_url, parse_sse_lines
    from tutor.profiles import Generation, load_profile
    from tutor.session import LiveSections

    with transformers_serve(model_dir, threads=torch_threads(), timeout=120) as url:
        profile = load_profile("remote", generation=Generation(max_new_tokens=tokens))
        from dataclasses import replace

        profile = replace(profile, base_url=url)
        backend = RemoteBackend(profile)
        body = backend.request_body(PROBLEM)

        # Wall time includes the server's generation (noisy on a shared CPU); the client's
        # CPU time is what the backend itself adds on top of a bare request.
        def direct() -> tuple[float, float, int, float]:
            started, cpu = time.perf_counter(), time.process_time()
            first, pieces = None, 0
            with httpx.Client(timeout=120) as client:
                with client.stream("POST", chat_url(url), json=body) as response:
                    for piece in parse_sse_lines(response.iter_lines()):
                        first = first or time.perf_counter() - started
                        pieces += 1
            return (time.perf_counter() - started, first or float("nan"), pieces,
                    time.process_time() - cpu)

        def via_backend() -> tuple[float, float, int, float]:
            live = LiveSections(profile.format)
            started, cpu = time.perf_counter(), time.process_time()
            first, pieces = None, 0
            for piece in backend.stream(PROBLEM):
                first = first or time.perf_counter() - started
                live.feed(piece)
                pieces += 1
            return (time.perf_counter() - started, first or float("nan"), pieces,
                    time.process_time() - cpu)

        direct()  # warm-up: the server loads the model on the first request
        d, b = [], []
        for _ in range(runs):  # interleaved, as above
            d.append(direct())
            b.append(via_backend())
    d_total, b_total = median([x[0] for x in d]), median([x[0] for x in b])
    return {
        "pieces": d[0][2],
        "direct_s": round(d_total, 3), "direct_first_piece_ms": round(median([x[1] for x in d]) * 1000, 1),
        "backend_s": round(b_total, 3), "backend_first_piece_ms": round(median([x[1] for x in b]) * 1000, 1),
        "overhead_pct": round(100 * (b_total - d_total) / d_total, 1),
        "direct_client_cpu_ms": round(median([x[3] for x in d]) * 1000, 1),
        "backend_client_cpu_ms": round(median([x[3] for x in b]) * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stream", description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-remote", action="store_true")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: on a shared small CPU, more threads busy-wait "
                             "each other and the figures swing wildly)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--model", choices=("random", "smollm2-ode"), default="random",
                        help="random: a locally built random-weight Llama (default); smollm2-ode: the real "
                             "SmolLM2-135M base from the model store + the shipped adapter (NF4 vs bf16 base)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)

    results: dict = {"tokens": args.tokens, "runs": args.runs, "torch_threads": torch.get_num_threads(),
                     "cuda": torch.cuda.is_available()}
    with tempfile.TemporaryDirectory() as tmp:
        adapter = None
        if args.model == "smollm2-ode":
            from tutor.model_store import resolve
            from tutor.profiles import load_profile

            real = load_profile("smollm2-ode")
            model_dir, adapter = Path(resolve(real.base_model)), real.adapter
            results["model"] = {"base": str(model_dir), "adapter": adapter}
        else:
            model_dir = build_model(Path(tmp) / "bench-model", args.tokens)
        dtype = "bfloat16"
        results["local_nf4"] = bench_local(model_dir, args.tokens, args.runs, "nf4", dtype, adapter)
        print("local nf4 :", results["local_nf4"], flush=True)
        results["local_bf16"] = bench_local(model_dir, args.tokens, args.runs, "none", dtype, adapter)
        print("local bf16:", results["local_bf16"], flush=True)
        if not args.no_remote and adapter is None:  # transformers serve cannot serve a bare adapter
            results["remote"] = bench_remote(model_dir, args.tokens, args.runs)
            print("remote    :", results["remote"], flush=True)
    n, b = results["local_nf4"], results["local_bf16"]
    print(f"\n{results.get('model', {}).get('adapter') or 'random-weight'} on a {n['parameters_m']}M-parameter Llama, {args.tokens} new tokens, median of {args.runs}, "
          f"{results['torch_threads']} torch threads, {'CUDA' if results['cuda'] else 'CPU'}")
    print(f"{'':28}{'NF4 (double quant)':>20}{'bf16':>12}")
    print(f"{'memory footprint (MB)':28}{n['memory_mb']:>20}{b['memory_mb']:>12}")
    print(f"{'raw generate (tok/s)':28}{n['raw_tok_s']:>20}{b['raw_tok_s']:>12}")
    print(f"{'backend + live parse (tok/s)':28}{n['backend_tok_s']:>20}{b['backend_tok_s']:>12}")
    print(f"{'raw first token (ms)':28}{n['raw_first_token_ms']:>20}{b['raw_first_token_ms']:>12}")
    print(f"{'backend first piece (ms)':28}{n['backend_first_piece_ms']:>20}{b['backend_first_piece_ms']:>12}")
    print(f"{'streaming overhead (%)':28}{n['overhead_pct']:>20}{b['overhead_pct']:>12}")
    print(f"{'  same, best runs (%)':28}{n['overhead_best_pct']:>20}{b['overhead_best_pct']:>12}")
    print(f"{'  same, CPU time (%)':28}{n['cpu_overhead_pct']:>20}{b['cpu_overhead_pct']:>12}")
    print(f"{'of which parsing (ms total)':28}{n['parse_ms_total']:>20}{b['parse_ms_total']:>12}")
    if "remote" in results:
        r = results["remote"]
        print(f"remote (transformers serve): direct {r['direct_s']} s (first piece {r['direct_first_piece_ms']} ms), "
              f"backend + live parse {r['backend_s']} s (first piece {r['backend_first_piece_ms']} ms), "
              f"overhead {r['overhead_pct']}%; client CPU {r['direct_client_cpu_ms']} ms direct vs "
              f"{r['backend_client_cpu_ms']} ms backend")
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
