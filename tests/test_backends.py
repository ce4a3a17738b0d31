"""Tests for model profiles and the local, remote and symbolic backends, on tiny local models."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from serving import free_port, transformers_serve
from tiny_models import local_profile, one_torch_thread, tiny_model_dir  # noqa: F401 (autouse fixture)
from tutor.backends import BackendError, get_backend
from tutor.backends.local import LocalBackend, StreamStats
from tutor.backends.remote import RemoteBackend, chat_url, parse_sse_lines
from tutor.format import SectionParser, parse_sections
from tutor.profiles import Generation, ModelUnavailable, ProfileError, load_profile, profile_names

PROBLEM = "y' = 2y"


@pytest.fixture(scope="module")
def taught(tmp_path_factory) -> Path:
    return tiny_model_dir(tmp_path_factory, taught=True)


@pytest.fixture(scope="module")
def random_model(tmp_path_factory) -> Path:
    return tiny_model_dir(tmp_path_factory, taught=False)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for var in ("TUTOR_PROFILE", "TUTOR_BASE_MODEL", "TUTOR_ADAPTER", "TUTOR_QUANTIZATION", "TUTOR_REMOTE_URL",
                "TUTOR_REMOTE_MODEL", "TUTOR_PHI3_ADAPTER", "TUTOR_TINYLLAMA_ADAPTER", "TUTOR_PROFILES_FILE"):
        monkeypatch.delenv(var, raising=False)


# --- profiles ---------------------------------------------------------------------------------

def test_builtin_profiles() -> None:
    assert {"symbolic", "phi3-mini-ode", "tinyllama-ode", "lmt-tuning", "remote"} <= set(profile_names())
    assert load_profile().name == "symbolic"
    lmt = load_profile("lmt-tuning")
    assert lmt.prompt_format == "lmt" and lmt.quantization == "nf4" and lmt.base_model == "Sandesh-Zenteiq/LMT-tuning"
    assert "[[Final Answer]]:" in lmt.format.messages("y'=y")[-1]["content"]
    phi = load_profile("phi3-mini-ode")
    assert phi.resolved_dtype(cuda=True) == "bfloat16" and phi.resolved_dtype(cuda=False) == "float32"


def test_selection_and_overrides(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TUTOR_PROFILE", "tinyllama-ode")
    monkeypatch.setenv("TUTOR_TINYLLAMA_ADAPTER", "/adapters/from-profile-env")
    assert load_profile().adapter == "/adapters/from-profile-env"
    monkeypatch.setenv("TUTOR_ADAPTER", "/adapters/from-env")
    monkeypatch.setenv("TUTOR_BASE_MODEL", "/models/base-from-env")
    p = load_profile()
    assert (p.name, p.adapter, p.base_model) == ("tinyllama-ode", "/adapters/from-env", "/models/base-from-env")
    p = load_profile(base_model="/models/flag", adapter="/adapters/flag")  # flags beat env
    assert (p.base_model, p.adapter) == ("/models/flag", "/adapters/flag")
    monkeypatch.setenv("TUTOR_QUANTIZATION", "none")
    assert load_profile().quantization == "none"
    extra = tmp_path / "more.yaml"
    extra.write_text("profiles:\n  mine:\n    backend: local\n    base_model: /m\n    quantization: none\n"
                     "    generation: {max_new_tokens: 9, candidates: 3}\n")
    monkeypatch.setenv("TUTOR_PROFILES_FILE", str(extra))
    mine = load_profile("mine")
    assert mine.generation == Generation(max_new_tokens=9, candidates=3) and mine.backend == "local"


def test_bad_profiles_are_reported(monkeypatch, tmp_path) -> None:
    with pytest.raises(ProfileError, match="unknown profile 'nope'"):
        load_profile("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("profiles:\n  x:\n    backend: local\n    quantisation: nf4\n")
    with pytest.raises(ProfileError, match="unknown fields: quantisation"):
        load_profile("x", path=bad)
    bad.write_text("profiles:\n  x:\n    backend: gpu\n")
    with pytest.raises(ProfileError, match="backend must be one of"):
        load_profile("x", path=bad)


def test_missing_weights_give_a_clear_message(monkeypatch, tmp_path) -> None:
    with pytest.raises(ModelUnavailable) as info:
        LocalBackend(load_profile("tinyllama-ode")).load()
    assert "needs its fine-tuned adapter" in info.value.message and info.value.missing == "TUTOR_TINYLLAMA_ADAPTER"
    assert "--adapter" in str(info.value)
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(ModelUnavailable, match="not at .*no-such-model") as info:
        get_backend(load_profile("phi3-mini-ode", base_model=missing, adapter=str(tmp_path))).stream(PROBLEM).__next__()
    assert info.value.missing == missing
    # A hub id with downloads off: the error names it at once instead of retrying the network.
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelUnavailable, match="Sandesh-Zenteiq/LMT-tuning.*not downloaded"):
        LocalBackend(load_profile("lmt-tuning")).load()
    with pytest.raises(ModelUnavailable, match="no server address"):
        RemoteBackend(load_profile("remote")).stream(PROBLEM).__next__()


def test_adapter_directory_without_adapter_is_reported(taught, tmp_path) -> None:
    profile = local_profile(taught, adapter=str(tmp_path))
    with pytest.raises(ModelUnavailable, match="adapter .* is not at"):
        LocalBackend(profile).load()


# --- local backend ----------------------------------------------------------------------------

@pytest.mark.parametrize("quantization", ["nf4", "none"])
def test_stream_equals_greedy_and_sections_match(taught, quantization) -> None:
    backend = LocalBackend(local_profile(taught, quantization=quantization))
    stats = StreamStats()
    pieces = list(backend.stream(PROBLEM, stats))
    streamed = "".join(pieces)
    assert len(pieces) > 10 and stats.tokens > 10 and not stats.cancelled
    assert streamed == backend.complete(PROBLEM)[0]
    parser = SectionParser()
    for piece in pieces:
        parser.feed(piece)
    assert parser.finish() == parse_sections(streamed, done=True)
    assert parser.finish().final_answer == "$y = C e^{2x}$"


def test_four_bit_layers(taught) -> None:
    import bitsandbytes as bnb

    model = LocalBackend(local_profile(taught, quantization="nf4")).model
    four_bit = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(four_bit) >= 7 * 2  # q, k, v, o, gate, up, down in each of the 2 layers
    # Double quantization: bitsandbytes' CPU path repacks the weights after the first forward
    # (quant_state.nested turns False then), so check the parameters' setting and the config.
    assert all(m.weight.quant_type == "nf4" and m.weight.compress_statistics for m in four_bit)
    assert model.config.quantization_config.bnb_4bit_use_double_quant
    plain = LocalBackend(local_profile(taught, quantization="none")).model
    assert not any(isinstance(m, bnb.nn.Linear4bit) for m in plain.modules())
    assert model.get_memory_footprint() < plain.get_memory_footprint()


def test_model_is_loaded_once_under_concurrency(taught, monkeypatch) -> None:
    import tutor.backends.local as local

    calls = []
    real = local._load

    def counting(key, profile):
        calls.append(key)
        time.sleep(0.2)  # widen the race window
        return real(key, profile)

    monkeypatch.setattr(local, "_load", counting)
    monkeypatch.setattr(local, "_models", {})
    backend = LocalBackend(local_profile(taught, quantization="none", generation=Generation(max_new_tokens=7)))
    loaded = []
    threads = [threading.Thread(target=lambda: loaded.append(backend.load())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and all(pair[0] is loaded[0][0] for pair in loaded)


def test_adapter_saved_and_reloaded_changes_the_output(taught, tmp_path) -> None:
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(taught)
    # init_lora_weights=False: random A and B, so the adapter is not the identity.
    lora = get_peft_model(base, LoraConfig(r=8, lora_alpha=32, target_modules=["q_proj", "v_proj"],
                                           init_lora_weights=False, task_type="CAUSAL_LM"))
    lora.save_pretrained(tmp_path / "adapter")
    without = LocalBackend(local_profile(taught, quantization="nf4")).complete(PROBLEM)[0]
    backend = LocalBackend(local_profile(taught, quantization="nf4", adapter=str(tmp_path / "adapter")))
    assert isinstance(backend.model, PeftModel)
    with_adapter = "".join(backend.stream(PROBLEM))
    assert with_adapter != without
    assert with_adapter == backend.complete(PROBLEM)[0]


def test_closing_the_stream_stops_generation(random_model) -> None:
    profile = local_profile(random_model, quantization="none", generation=Generation(max_new_tokens=400))
    backend = LocalBackend(profile)
    full = StreamStats()
    list(backend.stream("y'' = x", full))
    assert full.tokens == 400  # the random model never says <|end|>: a full run is 400 tokens
    # Greedy decoding repeats the full run, so any point before token 400 is mid-generation.
    # A consumer starved by other processes could fall far behind the generating thread; then
    # the run proves nothing and is repeated.
    for _attempt in range(3):
        stats = StreamStats()
        stream = backend.stream("y'' = x", stats)
        for i, _ in enumerate(stream):
            if i == 3:
                break
        at_close = stats.tokens
        stream.close()
        if at_close < 350:
            break
    assert at_close < 350, "the consumer never kept up with generation"
    # Without the stop it would run to 400; a few tokens may slip in between reading
    # at_close and close() setting the event.
    assert stats.cancelled and stats.tokens < 400 and stats.tokens - at_close < 50
    assert not [t for t in threading.enumerate() if t.name == "tutor-generate"]


def test_best_of_n_samples_distinct_candidates(random_model) -> None:
    backend = LocalBackend(local_profile(random_model, quantization="none",
                                         generation=Generation(max_new_tokens=12)))
    texts = backend.complete("y'' = x", n=3)
    assert len(texts) == 3 and len(set(texts)) > 1  # sampled, one batched generate


# --- remote backend ---------------------------------------------------------------------------

def test_sse_parsing() -> None:
    def event(content=None, finish=None):
        delta = {} if content is None else {"content": content}
        return 'data: {"choices": [{"delta": %s, "finish_reason": %s}]}' % (
            __import__("json").dumps(delta), "null" if finish is None else f'"{finish}"')

    lines = [": keep-alive", "", event(), event("## Hi"), event("nt\n"), "data: not json", event("x", "stop"),
             event("after the end")]
    assert list(parse_sse_lines(iter(lines))) == ["## Hi", "nt\n", "x"]
    assert list(parse_sse_lines(iter([event("a"), "data: [DONE]", event("b")]))) == ["a"]
    assert list(parse_sse_lines(iter([event("a"), event("b")]))) == ["a", "b"]  # no [DONE], no finish
    with pytest.raises(BackendError, match="overloaded"):
        list(parse_sse_lines(iter(['data: {"error": {"message": "overloaded"}}'])))
    assert chat_url("http://h:1") == chat_url("http://h:1/v1/") == "http://h:1/v1/chat/completions"


def test_unreachable_server_is_reported_quickly() -> None:
    profile = load_profile("remote")
    from dataclasses import replace

    profile = replace(profile, base_url=f"http://127.0.0.1:{free_port()}", connect_timeout=2)
    started = time.monotonic()
    with pytest.raises(ModelUnavailable, match="could not be reached"):
        list(RemoteBackend(profile).stream(PROBLEM))
    assert time.monotonic() - started < 5


@pytest.fixture(scope="module")
def served(taught, tmp_path_factory):
    """``transformers serve`` on a free local port with the tiny model; stopped afterwards."""
    with (tmp_path_factory.mktemp("serve") / "serve.log").open("w") as log:
        with transformers_serve(taught, threads=1, log=log) as url:
            yield url


@pytest.mark.slow
def test_remote_stream_from_transformers_serve(served, taught, monkeypatch) -> None:
    monkeypatch.setenv("TUTOR_REMOTE_URL", served)
    profile = load_profile("remote", generation=Generation(max_new_tokens=160))
    backend = get_backend(profile)
    pieces = list(backend.stream(PROBLEM))
    text = "".join(pieces)
    assert len(pieces) > 10
    # The server decodes greedily (the model's generation_config) with the same chat template.
    local = LocalBackend(local_profile(taught, quantization="none")).complete(PROBLEM)[0]
    assert text == local
    assert parse_sections(text, done=True).final_answer == "$y = C e^{2x}$"
    # Closing early closes the connection without error.
    stream = backend.stream(PROBLEM)
    assert next(stream)
    stream.close()


def test_spaces_gpu_decorator_is_applied_when_importable(tmp_path) -> None:
    """On Spaces the generating functions run under @spaces.GPU; a fake module stands in."""
    (tmp_path / "spaces.py").write_text("def GPU(fn):\n    fn.on_gpu = True\n    return fn\n")
    code = ("import tutor.backends.local as l; "
            "assert l._stream_generate.on_gpu and l._generate.on_gpu; print('ok')")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(Path(__file__).parents[1])])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr
    assert "on_gpu" not in dir(__import__("tutor.backends.local", fromlist=["_generate"])._generate)
