"""The scale-out backend: stream from an OpenAI-compatible ``/v1/chat/completions`` server.

Works with vLLM, TGI and ``transformers serve``.  The profile gives the base URL
(``TUTOR_REMOTE_URL``, with or without the trailing ``/v1``), the model name
(``TUTOR_REMOTE_MODEL``; omitted from the request when unset, which single-model servers
accept) and the API key's environment variable.  Connect and read timeouts are separate, so
a dead server fails fast while a slow first token is still allowed.  The stream ends at
``data: [DONE]``, at the first ``finish_reason``, or when the server closes the connection
(``transformers serve`` sends no ``[DONE]``).

Usage::

    backend = RemoteBackend(load_profile("remote"))   # TUTOR_REMOTE_URL=http://gpu-box:8000/v1
    for piece in backend.stream("y' = 2y"):
        ...
"""
from __future__ import annotations

import json
from typing import Any, Iterator

import httpx

from tutor.backends import BackendError
from tutor.profiles import ModelUnavailable, Profile


def chat_url(base_url: str) -> str:
    """``.../v1/chat/completions`` from a server URL given with or without ``/v1``."""
    base = base_url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    if not base.endswith("/v1"):
        base += "/v1"
    return base + "/chat/completions"


def parse_sse_lines(lines: Iterator[str]) -> Iterator[str]:
    """Content pieces from server-sent-event lines of a chat completion stream.

    Stops at ``[DONE]`` or at the first choice with a ``finish_reason``; ignores comments,
    blank lines and events without content (role announcements, usage reports).
    """
    for line in lines:
        line = line.strip()
        if not line or line.startswith(":") or not line.startswith("data:"):
            continue
        data = line[len("data:"):].strip()
        if data == "[DONE]":
            return
        try:
            event = json.loads(data)
        except json.JSONDecodeError:
            continue  # a keep-alive or a vendor extension; not text
        if isinstance(event, dict) and "error" in event:
            error = event["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise BackendError(f"the model server reported an error: {message}")
        choices = event.get("choices") if isinstance(event, dict) else None
        if not choices:
            continue
        choice = choices[0]
        piece = (choice.get("delta") or {}).get("content")
        if piece:
            yield piece
        if choice.get("finish_reason"):
            return


class RemoteBackend:
    """Chat completions from an OpenAI-compatible server, streamed."""

    def __init__(self, profile: Profile):
        self.profile = profile

    def _timeout(self) -> httpx.Timeout:
        p = self.profile
        return httpx.Timeout(connect=p.connect_timeout, read=p.read_timeout, write=p.connect_timeout,
                             pool=p.connect_timeout)

    def _headers(self) -> dict[str, str]:
        key = self.profile.api_key
        return {"Authorization": f"Bearer {key}"} if key else {}

    def request_body(self, problem_text: str, stream: bool = True, n: int = 1, prefix: str | None = None,
                     messages: list[dict[str, str]] | None = None, sample: bool | None = None) -> dict[str, Any]:
        """The chat request; ``prefix`` (a tools reply so far) continues the assistant message and
        stops at the end of the next request (``stop: [">>"]``; vLLM's ``continue_final_message``).
        ``messages`` replaces the profile's prompt (a one-shot exam, training.lbt); ``sample``
        forces sampling (best-of-n candidates asked one request at a time)."""
        g = self.profile.generation
        messages = messages if messages is not None else self.profile.format.messages(problem_text)
        sampled = sample if sample is not None else n > 1
        body: dict[str, Any] = {
            "messages": messages,
            "stream": stream,
            "max_tokens": g.max_new_tokens,
            "temperature": (g.temperature if g.temperature > 0 else 0.8) if sampled else g.temperature,
            "top_p": g.top_p,
        }
        if g.repetition_penalty != 1.0:
            body["repetition_penalty"] = g.repetition_penalty  # vLLM/TGI extension
        if n > 1:
            body["n"] = n
        if self.profile.remote_model:
            body["model"] = self.profile.remote_model
        if prefix is not None:
            from tutor.tools import CLOSE

            body["stop"] = [CLOSE]
            if prefix:
                body["messages"] = [*messages, {"role": "assistant", "content": prefix}]
                body["continue_final_message"] = True   # vLLM: go on inside the assistant turn
                body["add_generation_prompt"] = False
        return body

    def _unreachable(self, exc: Exception) -> ModelUnavailable:
        return ModelUnavailable(
            f"The model server for the '{self.profile.name}' profile at {self.profile.base_url} "
            f"could not be reached ({type(exc).__name__}).",
            missing=self.profile.base_url or "", hint="Check that it is running and TUTOR_REMOTE_URL is right.")

    def stream(self, problem_text: str, sample: bool | None = None,
               messages: list[dict[str, str]] | None = None) -> Iterator[str]:
        """New text pieces; closing the iterator closes the connection (the server stops).

        A ``tools`` profile's reply comes in segments (:func:`tutor.tools.stream_with_tools`): each
        request stops at ``>>`` (a stop string, which the server leaves out; it is put back here),
        the answer is computed here, and the next request continues the assistant message.
        ``messages`` replaces the profile's prompt (a one-shot exam of training.lbt).
        """
        if self.profile.prompt_format != "tools":
            yield from self._stream(self.request_body(problem_text, sample=sample, messages=messages))
            return
        from tutor.tools import CLOSE, stream_with_tools, unfinished_request

        def continue_reply(prefix: str) -> Iterator[str]:
            said = ""
            for piece in self._stream(self.request_body(problem_text, prefix=prefix, sample=sample,
                                                        messages=messages)):
                said += piece
                yield piece
            if unfinished_request(prefix + said):
                yield CLOSE

        yield from stream_with_tools(continue_reply)

    def _stream(self, body: dict[str, Any]) -> Iterator[str]:
        self.profile.check_available()
        url = chat_url(self.profile.base_url or "")
        try:
            with httpx.Client(timeout=self._timeout(), headers=self._headers()) as client:
                with client.stream("POST", url, json=body) as response:
                    if response.status_code >= 400:
                        response.read()
                        raise self._refused(response)
                    yield from parse_sse_lines(response.iter_lines())
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise self._unreachable(exc) from exc
        except httpx.ReadTimeout as exc:
            raise BackendError(f"the model server sent nothing for {self.profile.read_timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise BackendError(f"the connection to the model server failed ({type(exc).__name__})") from exc

    def _refused(self, response: httpx.Response) -> BackendError:
        error = BackendError(f"the model server answered HTTP {response.status_code}: {response.text[:300]}")
        # a client error (bad request, unknown model) is not worth another try; 5xx, 408 and 429 are
        error.transient = response.status_code >= 500 or response.status_code in (408, 429)
        return error

    def complete(self, problem_text: str, n: int = 1) -> list[str]:
        """``n`` whole replies; one request with ``n`` (falls back to n requests if ignored).

        A ``tools`` profile's replies need their requests answered here, so each is streamed
        (sampled when ``n > 1``)."""
        if self.profile.prompt_format == "tools":
            return ["".join(self.stream(problem_text, sample=n > 1)) for _ in range(n)]
        return self.complete_messages(self.profile.format.messages(problem_text), n)

    def complete_messages(self, messages: list[dict[str, str]], n: int = 1) -> list[str]:
        """``n`` whole replies to a chat (any turns: a one-shot exam prompt of training.lbt).
        A ``tools`` profile's replies are streamed one at a time, each with its requests answered."""
        if self.profile.prompt_format == "tools":
            return ["".join(self.stream("", sample=n > 1, messages=messages)) for _ in range(n)]
        self.profile.check_available()
        url = chat_url(self.profile.base_url or "")
        texts: list[str] = []
        try:
            with httpx.Client(timeout=self._timeout(), headers=self._headers()) as client:
                while len(texts) < n:
                    body = self.request_body("", stream=False, n=n - len(texts), messages=messages, sample=n > 1)
                    response = client.post(url, json=body)
                    if response.status_code >= 400:
                        raise self._refused(response)
                    choices = response.json().get("choices") or []
                    if not choices:
                        raise BackendError("the model server returned no choices")
                    texts += [(c.get("message") or {}).get("content") or "" for c in choices]
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise self._unreachable(exc) from exc
        except httpx.HTTPError as exc:
            raise BackendError(f"the connection to the model server failed ({type(exc).__name__})") from exc
        except json.JSONDecodeError as exc:
            raise BackendError("the model server's reply was not JSON (cut off?)") from exc
        return texts[:n]
