"""Training step time of the SmolLM2-135M base with LoRA r=16 on the 7 projections, per precision.

The issue's question: on this CPU, which base precision trains fastest — fp32, bf16 or NF4 4-bit
(QLoRA)? One sequence of ``--length`` tokens, forward + backward + AdamW on the LoRA weights,
median of ``--steps`` steps after one warm-up step, ``--threads`` torch threads.

Run::

    python -m bench.train_step                       # fp32, bf16, nf4; 512 tokens; 3 steps
    python -m bench.train_step --precisions nf4 bf16 --length 640
"""
from __future__ import annotations

import argparse
import logging
import statistics
import time

logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def step_seconds(base: str, precision: str, length: int, steps: int) -> float:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    kwargs = {"dtype": torch.bfloat16 if precision in ("bf16", "nf4") else torch.float32}
    if precision == "nf4":
        kwargs.update(device_map="cpu", quantization_config=BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16))
    model = AutoModelForCausalLM.from_pretrained(base, **kwargs)
    model.config.use_cache = False
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=TARGETS,
                                             task_type="CAUSAL_LM"))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    ids = torch.randint(100, 40000, (1, length))
    times = []
    for i in range(steps + 1):
        started = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision != "fp32"):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if i:  # the first step warms up allocations
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.train_step", description=__doc__.split("\n")[0])
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16", "nf4"], choices=["fp32", "bf16", "nf4"])
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    import torch

    from tutor.model_store import resolve

    torch.set_num_threads(args.threads)
    base = resolve("store:smollm2-135m-instruct")
    results = {p: step_seconds(base, p, args.length, args.steps) for p in args.precisions}
    reference = results.get("fp32") or next(iter(results.values()))
    print(f"SmolLM2-135M + LoRA r=16 (7 modules), one {args.length}-token sequence, {args.threads} threads, "
          f"median of {args.steps} steps:")
    for precision, seconds in results.items():
        print(f"  {precision:5} {seconds:6.2f} s/step   ({seconds / reference:.2f}x {'fp32' if 'fp32' in results else ''})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
