"""The in-process model backend: transformers + bitsandbytes 4-bit (NF4) + a PEFT adapter.

The model is loaded lazily, once per process (shared by every profile naming the same
weights), under a lock so concurrent first requests load it once.  It goes on CUDA when
there is one, with bf16 compute; on CPU with fp32 (bitsandbytes 4-bit runs on CPU too).
Generation runs in a thread feeding a ``TextIteratorStreamer`` (with a timeout, so a stalled
model cannot hang the consumer); the consumer's generator yields new text pieces.  When the
consumer stops iterating (Stop pressed, client gone), the generator's ``finally`` sets an
event that a ``StoppingCriteria`` checks after every token, so generation stops too.

On Hugging Face Spaces (the ``spaces`` package importable) the generating functions are
wrapped in ``@spaces.GPU``; elsewhere that decorator is not applied.

Usage::

    backend = LocalBackend(load_profile("tinyllama-ode", adapter="/models/adapter"))
    for piece in backend.stream("y' = 2y"):
        ...
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from tutor.backends import BackendError, StreamStats
from tutor.profiles import ModelUnavailable, Profile, looks_local

logger = logging.getLogger(__name__)

try:  # Spaces (ZeroGPU) allocates a GPU per decorated call; elsewhere it is not installed.
    import spaces as _spaces

    _gpu: Callable[[Callable], Callable] = _spaces.GPU
except Exception:  # ImportError, or a spaces that cannot initialise off Spaces
    def _gpu(fn: Callable) -> Callable:
        return fn


@dataclass(frozen=True)
class _Key:
    base_model: str
    adapter: str | None
    quantization: str
    dtype: str
    device: str


_models: dict[_Key, tuple[Any, Any]] = {}
_models_lock = threading.Lock()


def _quiet_bitsandbytes() -> None:
    # Its CPU kernel probe prints a harmless "Failed to load CPU gemm_4bit_forward" warning.
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _load(key: _Key, profile: Profile) -> tuple[Any, Any]:
    _quiet_bitsandbytes()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars would garble the CLI's stream
    dtype = getattr(torch, key.dtype)
    kwargs: dict[str, Any] = {"dtype": dtype, "device_map": {"": 0} if key.device == "cuda" else "cpu"}
    if key.quantization == "nf4":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype)
    tokenizer_source = key.base_model
    if key.adapter and looks_local(key.adapter) and (Path(key.adapter) / "tokenizer_config.json").is_file():
        tokenizer_source = key.adapter  # an adapter trained with added tokens ships its tokenizer
    try:
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_source)
        model = AutoModelForCausalLM.from_pretrained(key.base_model, **kwargs)
    except Exception as exc:  # OSError (not on disk, not downloadable), bad config, no memory
        raise ModelUnavailable(
            f"The model '{key.base_model}' for the '{profile.name}' profile could not be loaded "
            f"({_first_line(exc)}).",
            missing=key.base_model,
            hint="Download it first (no internet here?) or point --base-model / TUTOR_BASE_MODEL "
                 "at a local copy.") from exc
    if key.adapter:
        from peft import PeftModel

        try:
            model = PeftModel.from_pretrained(model, key.adapter)
        except Exception as exc:
            raise ModelUnavailable(
                f"The adapter '{key.adapter}' for the '{profile.name}' profile could not be loaded "
                f"({_first_line(exc)}).",
                missing=key.adapter, hint="Point --adapter / TUTOR_ADAPTER at a PEFT adapter directory.") from exc
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


class _Cancel:
    """StoppingCriteria: stop every sequence once ``event`` is set; count generated tokens."""

    def __init__(self, event: threading.Event, prompt_length: int, stats: StreamStats):
        self.event = event
        self.prompt_length = prompt_length
        self.stats = stats

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        self.stats.tokens = int(input_ids.shape[1] - self.prompt_length)
        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


class _AfterRequest:
    """StoppingCriteria: stop once the reply (``prefix`` + the new tokens) ends with a tool request
    (:func:`tutor.tools.pending_request`), so the runtime can answer it."""

    def __init__(self, tokenizer: Any, prefix: str, prompt_length: int):
        self.tokenizer = tokenizer
        self.prefix = prefix
        self.prompt_length = prompt_length

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        from tutor.tools import CLOSE, pending_request

        last = self.tokenizer.decode(input_ids[0, -1:], skip_special_tokens=True)
        stop = False
        if CLOSE[-1] in last:
            text = self.prefix + self.tokenizer.decode(input_ids[0, self.prompt_length:], skip_special_tokens=True)
            stop = pending_request(text.rstrip(" ")) is not None
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)


@_gpu
def _stream_generate(model: Any, tokenizer: Any, inputs: dict, settings: dict, timeout: float,
                     stats: StreamStats, extra_criteria: tuple = ()) -> Iterator[str]:
    """Run ``generate`` in a thread and yield the streamer's text pieces; stop it when closed."""
    import torch
    from transformers import StoppingCriteriaList, TextIteratorStreamer

    started = time.perf_counter()
    cancel = threading.Event()
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=timeout)
    criteria = StoppingCriteriaList([_Cancel(cancel, inputs["input_ids"].shape[1], stats), *extra_criteria])
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with torch.inference_mode():
                model.generate(**inputs, **settings, streamer=streamer, stopping_criteria=criteria)
        except BaseException as exc:  # reported to the consumer below, not lost in the thread
            errors.append(exc)
            streamer.end()

    thread = threading.Thread(target=run, name="tutor-generate", daemon=True)
    thread.start()
    finished = False
    try:
        try:
            for piece in streamer:
                if not piece:
                    continue
                if stats.first_piece_s is None:
                    stats.first_piece_s = time.perf_counter() - started
                yield piece
        except queue.Empty as exc:
            raise BackendError(f"the model produced no text for {timeout:g} s") from exc
        finished = True
    finally:
        if not finished:
            stats.cancelled = True
        cancel.set()
        thread.join(timeout=30)
        stats.seconds = time.perf_counter() - started
    if errors:
        raise BackendError(f"generation failed: {_first_line(errors[0])}") from errors[0]


@_gpu
def _generate(model: Any, inputs: dict, settings: dict) -> Any:
    import torch

    with torch.inference_mode():
        return model.generate(**inputs, **settings)


class LocalBackend:
    """A profile's model in this process; ``stream`` yields text pieces, ``complete`` whole replies."""

    def __init__(self, profile: Profile):
        self.profile = profile

    # -- loading --------------------------------------------------------------------------------

    def _key(self) -> _Key:
        import torch

        cuda = torch.cuda.is_available()
        return _Key(self._base_model(), self.profile.adapter, self.profile.quantization,
                    self.profile.resolved_dtype(cuda), "cuda" if cuda else "cpu")

    def _base_model(self) -> str:
        """The base as ``from_pretrained`` takes it: a ``store:`` base is fetched on first use."""
        from tutor.model_store import StoreError, is_store_ref, resolve

        base = self.profile.base_model or ""
        if not is_store_ref(base):
            return base
        try:
            return resolve(base)
        except StoreError as exc:
            raise ModelUnavailable(f"The base model for the '{self.profile.name}' profile is not available: "
                                   f"{exc.message}", missing=base, hint=exc.hint) from exc

    def load(self) -> tuple[Any, Any]:
        """(model, tokenizer), loaded on first use; raises ModelUnavailable with a readable message."""
        self.profile.check_available()
        key = self._key()
        with _models_lock:  # one load per process even when the first requests arrive together
            if key not in _models:
                _models[key] = _load(key, self.profile)
            return _models[key]

    @property
    def model(self) -> Any:
        return self.load()[0]

    @property
    def tokenizer(self) -> Any:
        return self.load()[1]

    # -- prompting ------------------------------------------------------------------------------

    def prompt_inputs(self, problem_text: str) -> dict:
        """Token ids of the chat prompt (the tokenizer's chat template), on the model's device."""
        return self.chat_inputs(self.profile.format.messages(problem_text))

    def chat_inputs(self, messages: list[dict[str, str]]) -> dict:
        """Token ids of any chat (the tokenizer's chat template, ready for the assistant's turn)."""
        model, tokenizer = self.load()
        if getattr(tokenizer, "chat_template", None):
            try:
                inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                       return_dict=True, return_tensors="pt")
            except Exception:  # some templates reject a system turn: fold it into the user turn
                merged = [{"role": "user", "content": "\n\n".join(m["content"] for m in messages)}]
                inputs = tokenizer.apply_chat_template(merged, add_generation_prompt=True,
                                                       return_dict=True, return_tensors="pt")
        else:  # a base model without a template: plain text turns
            text = "\n\n".join(m["content"] for m in messages) + "\n\n"
            inputs = tokenizer(text, return_tensors="pt")
        return {k: v.to(model.device) for k, v in inputs.items() if k in ("input_ids", "attention_mask")}

    def generation_settings(self, n: int = 1) -> dict:
        g = self.profile.generation
        tokenizer = self.tokenizer
        settings: dict[str, Any] = {"max_new_tokens": g.max_new_tokens, "pad_token_id": tokenizer.pad_token_id,
                                    "repetition_penalty": g.repetition_penalty}
        sample = g.do_sample or n > 1  # best-of-n needs different candidates
        settings["do_sample"] = sample
        if sample:
            settings.update(temperature=g.temperature if g.temperature > 0 else 0.8, top_p=g.top_p)
        else:  # greedy: drop sampling settings a checkpoint's generation_config may carry
            settings.update(temperature=None, top_p=None, top_k=None)
        if n > 1:
            settings["num_return_sequences"] = n
        return settings

    # -- generation -----------------------------------------------------------------------------

    def stream(self, problem_text: str, stats: StreamStats | None = None) -> Iterator[str]:
        """New text pieces of the reply; closing the iterator stops generation.

        A ``tools`` profile's reply is generated in segments: each stops after a tool request,
        the runtime's answer is streamed, and generation resumes with it in the context
        (:func:`tutor.tools.stream_with_tools`); ``max_new_tokens`` bounds the model's tokens
        over all segments.
        """
        model, tokenizer = self.load()
        inputs = self.prompt_inputs(problem_text)
        stats = stats if stats is not None else StreamStats()
        if self.profile.prompt_format != "tools":
            yield from _stream_generate(model, tokenizer, inputs, self.generation_settings(),
                                        self.profile.stream_timeout, stats)
            return
        yield from self._stream_with_tools(model, tokenizer, inputs, stats, self.generation_settings())

    def _stream_with_tools(self, model: Any, tokenizer: Any, inputs: dict, stats: StreamStats,
                           settings: dict) -> Iterator[str]:
        import torch

        from tutor.tools import stream_with_tools

        budget = settings["max_new_tokens"]
        started = time.perf_counter()
        used = 0

        def continue_reply(prefix: str) -> Iterator[str]:
            nonlocal used
            left = budget - used
            if left <= 0:
                return
            ids = inputs["input_ids"]
            if prefix:
                more = tokenizer(prefix, add_special_tokens=False, return_tensors="pt")["input_ids"].to(ids.device)
                ids = torch.cat([ids, more], dim=1)
            segment = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
            part = StreamStats()
            try:
                for piece in _stream_generate(model, tokenizer, segment, {**settings, "max_new_tokens": left},
                                              self.profile.stream_timeout, part,
                                              (_AfterRequest(tokenizer, prefix, ids.shape[1]),)):
                    if stats.first_piece_s is None:
                        stats.first_piece_s = time.perf_counter() - started
                    stats.tokens = used + part.tokens
                    yield piece
            finally:
                used += part.tokens
                stats.tokens = used

        try:
            yield from stream_with_tools(continue_reply)
        except GeneratorExit:
            stats.cancelled = True
            raise
        finally:
            stats.seconds = time.perf_counter() - started

    def complete(self, problem_text: str, n: int = 1) -> list[str]:
        """``n`` whole replies in one batched ``generate`` (``num_return_sequences``)."""
        if self.profile.prompt_format == "tools":  # each reply needs its requests answered: one at a time
            return self.complete_chats([self.profile.format.messages(problem_text)], n)[0]
        model, tokenizer = self.load()
        inputs = self.prompt_inputs(problem_text)
        output = _generate(model, inputs, self.generation_settings(n))
        prompt_length = inputs["input_ids"].shape[1]
        return [tokenizer.decode(row[prompt_length:], skip_special_tokens=True) for row in output]

    def complete_messages(self, messages: list[dict[str, str]], n: int = 1) -> list[str]:
        """``n`` whole replies to one chat (any turns: a one-shot exam prompt of training.lbt)."""
        return self.complete_chats([messages], n)[0]

    def complete_chats(self, chats: list[list[dict[str, str]]], n: int = 1) -> list[list[str]]:
        """``n`` replies to each chat, all in one batched ``generate``: the prompts left-padded to
        one length (with their attention mask), ``num_return_sequences`` = ``n``.  A ``tools``
        profile's replies are generated one at a time, each with its requests answered."""
        if not chats:
            return []
        model, tokenizer = self.load()
        if self.profile.prompt_format == "tools":  # each reply needs its requests answered: one at a time
            settings = {k: v for k, v in self.generation_settings(n).items() if k != "num_return_sequences"}
            return [["".join(self._stream_with_tools(model, tokenizer, self.chat_inputs(chat), StreamStats(), settings))
                     for _ in range(n)] for chat in chats]
        texts = [tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False) for chat in chats]
        with _models_lock:  # the tokenizer is shared by every backend of this model
            side = tokenizer.padding_side
            tokenizer.padding_side = "left"
            try:
                encoded = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            finally:
                tokenizer.padding_side = side
        inputs = {k: encoded[k].to(model.device) for k in ("input_ids", "attention_mask")}
        output = _generate(model, inputs, self.generation_settings(n))
        length = inputs["input_ids"].shape[1]
        replies = [tokenizer.decode(row[length:], skip_special_tokens=True) for row in output]
        return [replies[i * n:(i + 1) * n] for i in range(len(chats))]


def unload_all() -> None:
    """Forget every loaded model (tests; freeing memory)."""
    with _models_lock:
        _models.clear()
