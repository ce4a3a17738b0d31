"""Tests for training.tiny_model: a local tokenizer + tiny Llama, chat template, no download."""
from __future__ import annotations

import functools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiny_models import one_torch_thread, tiny_model_dir  # noqa: F401 (autouse fixture)
from training.tiny_model import EXAMPLES, PRESETS, build_tokenizer, corpus, main
from tutor.format import chat_messages, serialize


@functools.lru_cache(maxsize=1)
def _tokenizer():
    return build_tokenizer(corpus())


@pytest.fixture(scope="module")
def tokenizer():
    return _tokenizer()


def test_cli_writes_a_loadable_model(tmp_path, capsys) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert main(["--out", str(tmp_path)]) == 0
    assert "parameters" in capsys.readouterr().out
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "llama"
    tok = AutoTokenizer.from_pretrained(tmp_path)
    model = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert tok.chat_template and model.config.vocab_size == len(tok)
    assert model.generation_config.do_sample is False


def test_chat_template_and_generation_prompt(tokenizer) -> None:
    messages = chat_messages("y' = 2y")
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert text.startswith("<|begin|><|system|>\n")
    assert text.endswith("<|user|>\nSolve the differential equation step by step:\ny' = 2y<|end|>\n<|assistant|>\n")


def test_assistant_mask_covers_exactly_the_reply(tokenizer) -> None:
    problem, sections = EXAMPLES[0]
    row = tokenizer.apply_chat_template(chat_messages(problem, sections), return_dict=True,
                                        return_assistant_tokens_mask=True)
    masked = [t for t, m in zip(row["input_ids"], row["assistant_masks"]) if m]
    assert tokenizer.decode(masked) == serialize(sections) + "<|end|>"


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.text(max_size=60))
def test_any_text_round_trips(text: str) -> None:
    tok = _tokenizer()  # byte-level BPE: nothing is unknown, nothing is lost
    assert tok.decode(tok(text)["input_ids"]) == text


def test_bench_preset_is_at_least_20m_parameters(tokenizer) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    size = PRESETS["bench"]
    with torch.device("meta"):  # count without allocating
        model = LlamaForCausalLM(LlamaConfig(
            vocab_size=len(tokenizer), hidden_size=size.hidden_size, intermediate_size=size.intermediate_size,
            num_hidden_layers=size.num_hidden_layers, num_attention_heads=size.num_attention_heads,
            num_key_value_heads=size.num_key_value_heads, tie_word_embeddings=False))
    assert model.num_parameters() >= 20_000_000


def test_taught_model_replies_in_the_tutor_format(tmp_path_factory) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = tiny_model_dir(tmp_path_factory)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    problem, sections = EXAMPLES[0]
    inputs = tok.apply_chat_template(chat_messages(problem), add_generation_prompt=True, return_dict=True,
                                     return_tensors="pt")
    out = model.generate(**inputs, max_new_tokens=160)
    reply = tok.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert reply.rstrip("\n") == serialize(sections).rstrip("\n")
