"""Build a tiny random-weight Llama and a locally trained tokenizer, in the tutor chat format.

No download: the tokenizer is a byte-level BPE trained here with ``tokenizers`` on
tutor-format text (so LaTeX and section headings are a few tokens each), wrapped in
``PreTrainedTokenizerFast`` with a chat template whose assistant turn is inside
``{% generation %}`` (trl's ``assistant_only_loss``).  Tests and benchmarks use it to drive
the real loading, 4-bit quantization, adapter and streaming code.

Run::

    python -m training.tiny_model --out /tmp/tiny            # ~0.1M parameters, < 2 s
    python -m training.tiny_model --out /tmp/bench --preset bench   # >= 20M parameters
    python -m training.tiny_model --out /tmp/taught --teach  # also fit it to reply in format

``--teach`` runs a few hundred optimizer steps so the model answers the built-in example
problems with their tutor-format replies (greedy decoding reproduces them): tests use it to
see live section parsing, verification and fallback on a real model stream.
"""
from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from tutor.format import (
    FORMATS, LMT_FINAL_TAG, SYSTEM_PROMPT, Sections, chat_messages, serialize, user_prompt,
)

BOS, EOS, PAD, UNK = "<|begin|>", "<|end|>", "<|pad|>", "<|unk|>"
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>")

# One line, so trim_blocks cannot eat a newline; each newline is written as {{ '\n' }}.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "<|assistant|>{{ '\n' }}{% generation %}{{ message['content'] }}{{ eos_token }}{% endgeneration %}{{ '\n' }}"
    "{% else %}"
    "<|{{ message['role'] }}|>{{ '\n' }}{{ message['content'] }}{{ eos_token }}{{ '\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{{ '\n' }}{% endif %}"
)

# Problems with their tutor replies: the tokenizer's training text and the --teach targets.
# The first reply is right; the second one's final answer is deliberately wrong (y = e^{x}
# does not satisfy y' = -y), so tests can exercise the verify-and-fall-back path.
EXAMPLES: tuple[tuple[str, Sections], ...] = (
    ("y' = 2y", Sections(
        classification="First order, degree 1, linear, autonomous, constant coefficients.",
        hint="Separate the variables: $\\frac{dy}{y} = 2\\,dx$.",
        steps=["$\\int \\frac{dy}{y} = \\int 2\\,dx$", "$\\ln|y| = 2x + C_0$", "$y = C e^{2x}$"],
        final_answer="$y = C e^{2x}$")),
    ("y' = -y", Sections(
        classification="First order, degree 1, linear, autonomous.",
        hint="Separate the variables.",
        steps=["$\\frac{dy}{y} = -dx$", "$\\ln|y| = -x + C_0$"],
        final_answer="$y = e^{x}$")),
)

_EXTRA_TEXT = (
    "y'' + y = 0, y(0) = 1, y'(0) = 0", "dy/dx = x*y", "(2xy + 3) dx + (x^2 - 1) dy = 0",
    "\\frac{dy}{dx} + P(x) y = Q(x)", "\\mu(x) = e^{\\int P(x)\\,dx}", "r^2 + 1 = 0, r = \\pm i",
    "y = C_1 \\cos x + C_2 \\sin x", "v = \\frac{y}{x}, y' = v + x v'", "M_y = N_x",
    "Substitute, integrate both sides, and solve for the constant.",
    f"{LMT_FINAL_TAG} $y = C e^{{x}}$",
)


def corpus() -> list[str]:
    """Text the tokenizer learns its merges from: prompts, replies and ODE notation."""
    texts = [SYSTEM_PROMPT, *(f.system_prompt for f in FORMATS.values())]
    for problem, sections in EXAMPLES:
        texts += [user_prompt(problem), FORMATS["lmt"].user_prompt(problem), serialize(sections)]
    texts += list(_EXTRA_TEXT)
    return texts


def build_tokenizer(texts: Iterable[str], vocab_size: int = 512):
    """A byte-level BPE tokenizer (any text round-trips) with the tutor chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token=None))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, BOS, EOS, UNK, *ROLE_TOKENS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(list(texts), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token=BOS, eos_token=EOS, pad_token=PAD, unk_token=UNK,
        additional_special_tokens=list(ROLE_TOKENS), chat_template=CHAT_TEMPLATE,
        model_max_length=2048,
    )


@dataclass(frozen=True)
class Size:
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_size: int


PRESETS: dict[str, Size] = {
    # Smallest that still exercises every code path (4-bit needs in_features % 64 == 0).
    "tiny": Size(64, 128, 2, 4, 2, 512),
    # >= 20M parameters, for benchmarks (speed does not depend on the weights' values).
    "bench": Size(512, 1536, 8, 8, 4, 4096),
}


def build_model(tokenizer, size: Size, seed: int = 0):
    """A random-weight LlamaForCausalLM sized ``size`` matching ``tokenizer``."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=size.hidden_size,
        intermediate_size=size.intermediate_size, num_hidden_layers=size.num_hidden_layers,
        num_attention_heads=size.num_attention_heads, num_key_value_heads=size.num_key_value_heads,
        max_position_embeddings=2048, tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    # Greedy by default: tests compare streamed and non-streamed output token for token.
    model.generation_config = GenerationConfig(
        do_sample=False, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, max_new_tokens=256,
    )
    return model


def teach(model, tokenizer, examples: Iterable[tuple[str, Sections]] = EXAMPLES,
          steps: int = 300, lr: float = 5e-3) -> float:
    """Fit the model to reply to each example problem with its serialized sections.

    ``lr`` 5e-3: at 1e-2 the loss stalled at 0.0067 on an AVX-512 CPU (torch 2.13) with both
    example replies collapsed into one; 5e-3 fits (< 2e-3) there in ~400 steps.

    Assistant tokens only (the chat template's generation mask), full batch, AdamW.
    Returns the final loss; a loss near 0 means greedy decoding reproduces the replies.
    """
    import torch

    rows = [tokenizer.apply_chat_template(chat_messages(problem, sections), tokenize=True,
                                          return_dict=True, return_assistant_tokens_mask=True)
            for problem, sections in examples]
    width = max(len(r["input_ids"]) for r in rows)
    ids = torch.full((len(rows), width), tokenizer.pad_token_id)
    labels = torch.full((len(rows), width), -100)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        n = len(row["input_ids"])
        ids[i, :n] = torch.tensor(row["input_ids"])
        attention[i, :n] = 1
        mask = torch.tensor(row["assistant_masks"], dtype=torch.bool)
        labels[i, :n] = torch.where(mask, ids[i, :n], torch.tensor(-100))
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    loss = torch.tensor(float("nan"))
    # One thread: these matrices are tiny, and on a shared 2-core machine two busy-waiting
    # OpenMP threads made the same loop 25x slower (4 s vs 104 s for 100 steps).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(steps):
            optimizer.zero_grad()
            loss = model(input_ids=ids, attention_mask=attention, labels=labels).loss
            loss.backward()
            optimizer.step()
            if loss.item() < 2e-3:
                break
    finally:
        torch.set_num_threads(threads)
    model.eval()
    return float(loss.item())


def build(out: str | Path, preset: str = "tiny", seed: int = 0, teach_steps: int = 0) -> Path:
    """Build and save tokenizer + model to ``out`` (``from_pretrained``-ready). Returns the path."""
    size = PRESETS[preset]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(corpus(), vocab_size=size.vocab_size)
    model = build_model(tokenizer, size, seed=seed)
    if teach_steps:
        teach(model, tokenizer, steps=teach_steps)
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.tiny_model", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="directory to write the model and tokenizer to")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--teach", action="store_true", help="fit it to the example replies (a few seconds)")
    args = parser.parse_args(argv)
    logging.getLogger("transformers").setLevel(logging.ERROR)
    path = build(args.out, args.preset, args.seed, teach_steps=800 if args.teach else 0)
    from transformers import AutoModelForCausalLM

    params = AutoModelForCausalLM.from_pretrained(path).num_parameters()
    print(f"wrote {path} ({params / 1e6:.2f}M parameters, preset {args.preset})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
