"""An async client for OpenAI-compatible `/v1/chat/completions` endpoints (vLLM, SGLang, TGI).

Reasoning traces come from a teacher model behind one or more inference servers that
speak the OpenAI chat API. A long generation job meets every failure such a fleet has:
a server restarting (connection refused, dropped connections), an overloaded one (500,
503, 429), a request that never ends, a proxy returning HTML. open-r1's
`generate_reasoning.py` retries any exception ten times with a fixed 10 s sleep and then
returns None, which also retries requests that can never succeed (a prompt longer than
the context) and treats a wrong model name as ten minutes of silence.

Here each failure is classified once:
- transient (connection errors, timeouts, 408/429/5xx, a body that is not a completion):
  retried with exponential backoff and jitter (tenacity), each attempt on the next base URL
  so a dead replica does not hold a request;
- this request is wrong (other 4xx, such as a prompt over the context length):
  `RequestRejected`, not retried, the row is reported as failed;
- the whole job is wrong (401/403/404: bad key, wrong model name or URL): `EndpointError`,
  which stops the run at once instead of failing every row slowly.

Data flow: chat messages of one prompt (from `generate` / `pass-rate`) -> POST to one of
the base URLs -> `Completion` (text, finish reason, token usage) -> the row's generations.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from r1_data.errors import DataError, DataInputError, EndpointError

logger = logging.getLogger(__name__)

# Statuses that mean "try again later"; 5xx covers restarts and overload.
_RETRY_STATUSES = frozenset({408, 409, 425, 429})
# Statuses that mean every request of this job will fail the same way.
_FATAL_STATUSES = frozenset({401, 403, 404})


class TransientError(DataError):
    """A request failed in a way a retry may fix (kept inside this module's retry loop)."""


class RequestRejected(DataError):
    """The server refused this request for a reason a retry cannot fix (a 4xx)."""


@dataclass
class Completion:
    """One chat completion: the text, why it stopped, and the server's token counts."""

    text: str
    finish_reason: str | None
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass
class EndpointConfig:
    """Where and how to call the teacher model; each field's help is its `metadata["help"]`.

    The long default timeout is for reasoning traces: 32k tokens take minutes on a busy
    server. `api_key` left unset reads $OPENAI_API_KEY, else "EMPTY" (what vLLM accepts
    when it runs without a key).
    """

    base_urls: list[str] = field(
        metadata={
            "help": "OpenAI API root of a server, e.g. http://127.0.0.1:8000/v1; repeat for "
            "several servers (requests rotate over them, and a retry goes to the next one)",
            "flag": "--base-url",
            "aliases": ("--vllm-server-url",),  # open-r1's generate.py
            "metavar": "URL",
        }
    )
    model: str = field(
        metadata={"help": "the model name the server serves (vLLM's --served-model-name)"}
    )
    timeout: float = field(
        default=900.0,
        metadata={"help": "seconds one request may take, reading included", "metavar": "SECONDS"},
    )
    max_retries: int = field(
        default=5,
        metadata={
            "help": "retries of a failed request (500s, timeouts, dropped connections)",
            "aliases": ("--retries",),  # open-r1's generate.py
            "metavar": "R",
        },
    )
    backoff: float = field(
        default=1.0,
        metadata={
            "help": "base of the exponential backoff between retries, seconds (capped at 60)",
            "metavar": "SECONDS",
        },
    )
    api_key: str | None = field(
        default=None,
        metadata={"help": "Bearer token (default: $OPENAI_API_KEY, else EMPTY)", "metavar": "KEY"},
    )

    def __post_init__(self) -> None:
        if isinstance(self.base_urls, str):
            self.base_urls = [self.base_urls]
        if not self.base_urls:
            raise DataInputError("base_urls=[]: give at least one --base-url")
        for url in self.base_urls:
            if not url.startswith(("http://", "https://")):
                raise DataInputError(
                    f"base_url={url!r}: must start with http:// or https:// "
                    "(the OpenAI API root, e.g. http://127.0.0.1:8000/v1)"
                )
        self.base_urls = [u.rstrip("/") for u in self.base_urls]
        if not self.model:
            raise DataInputError("model='': give the model name the server serves (--model)")
        if not self.timeout > 0:
            raise DataInputError(f"timeout={self.timeout!r}: must be positive seconds")
        if self.max_retries < 0:
            raise DataInputError(f"max_retries={self.max_retries!r}: must be >= 0")
        if self.backoff < 0:
            raise DataInputError(f"backoff={self.backoff!r}: must be >= 0 seconds")
        if self.api_key is None:
            self.api_key = os.environ.get("OPENAI_API_KEY", "EMPTY")


class ChatClient:
    """Chat completions over one aiohttp session; use as `async with ChatClient(cfg) as c`."""

    def __init__(self, config: EndpointConfig, max_connections: int = 100) -> None:
        self.config = config
        self._max_connections = max_connections
        self._turn = itertools.count()  # spreads first attempts over the base URLs
        self._session: aiohttp.ClientSession | None = None
        self.retries = 0  # transient failures retried, for the run report

    async def __aenter__(self) -> ChatClient:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.config.timeout),
            connector=aiohttp.TCPConnector(limit=self._max_connections),
            headers={"Authorization": f"Bearer {self.config.api_key}"},
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def check(self, timeout: float = 10.0) -> list[str]:
        """The base URLs that answer at all (any HTTP status counts).

        Raises:
            EndpointError: none of them answers; the message names each and why.
        """
        assert self._session is not None, "use `async with ChatClient(...)`"
        alive, reasons = [], []
        for url in self.config.base_urls:
            try:
                async with self._session.get(
                    f"{url}/models", timeout=aiohttp.ClientTimeout(total=timeout)
                ):
                    alive.append(url)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                reasons.append(f"{url}: {_describe(exc)}")
        if not alive:
            raise EndpointError(
                f"cannot reach any endpoint ({'; '.join(reasons)}); is the inference server "
                "running and --base-url its OpenAI API root (e.g. http://127.0.0.1:8000/v1)?"
            )
        for reason in reasons:
            logger.warning("endpoint unreachable, requests will still rotate to it: %s", reason)
        return alive

    async def complete(self, messages: list[dict[str, Any]], **sampling: Any) -> Completion:
        """One completion of `messages`, retrying transient failures with backoff.

        Args:
            **sampling: `temperature`, `top_p`, `max_tokens`, ... (None values are left out,
                so the server's defaults apply).

        Raises:
            TransientError: transient failures outlasted every retry.
            RequestRejected: a 4xx other than the retryable and fatal ones.
            EndpointError: 401/403/404.
        """
        body = {"model": self.config.model, "messages": messages}
        body.update({k: v for k, v in sampling.items() if v is not None})
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(self.config.max_retries + 1),
            wait=wait_random_exponential(multiplier=self.config.backoff, max=60),
            before_sleep=self._count_retry,
            reraise=True,
        )
        first = next(self._turn)
        urls = self.config.base_urls
        async for attempt in retrying:
            with attempt:
                # Each retry of this request goes to the next URL, so a dead replica
                # costs one attempt, not all of them.
                url = urls[(first + attempt.retry_state.attempt_number - 1) % len(urls)]
                return await self._post(url, body)
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    def _count_retry(self, state: RetryCallState) -> None:
        self.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        logger.debug("retrying after attempt %d: %s", state.attempt_number, exc)

    async def _post(self, base_url: str, body: dict[str, Any]) -> Completion:
        assert self._session is not None, "use `async with ChatClient(...)`"
        url = f"{base_url}/chat/completions"
        try:
            async with self._session.post(url, json=body) as response:
                status = response.status
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransientError(f"{url}: {_describe(exc)}") from exc
        text = raw[:300].decode("utf-8", "replace")
        if status in _FATAL_STATUSES:
            raise EndpointError(f"{url} answered {status}: {text} (check --model and --base-url)")
        if status in _RETRY_STATUSES or status >= 500:
            raise TransientError(f"{url} answered {status}: {text}")
        if status >= 400:
            raise RequestRejected(f"{url} answered {status}: {text}")
        return _parse_completion(raw, url)


def _parse_completion(raw: bytes, url: str) -> Completion:
    import json

    try:
        payload = json.loads(raw)
        choice = payload["choices"][0]
        message = choice["message"]
        content = message.get("content")
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise TypeError(f"content is {type(content).__name__}")
        # vLLM and SGLang put DeepSeek-R1's thinking in `reasoning_content` when a reasoning
        # parser is on; keep it, inside the think tags the rewards look for.
        reasoning = message.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            content = f"<think>\n{reasoning}\n</think>\n{content}"
        usage = payload.get("usage") or {}
        return Completion(content, choice.get("finish_reason"), usage)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        # Proxies answer 200 with HTML, servers crash mid-body: worth another try.
        snippet = raw[:120].decode("utf-8", "replace")
        raise TransientError(f"{url}: not a chat completion ({exc}): {snippet!r}") from exc


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    return " ".join(str(exc).split()) or type(exc).__name__


async def probe(config: EndpointConfig) -> list[str]:
    """The base URLs of `config` that answer; `EndpointError` when none does."""
    async with ChatClient(config) as client:
        return await client.check()
