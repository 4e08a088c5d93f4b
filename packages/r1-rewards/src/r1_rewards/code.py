"""Code rewards: run the model's program against tests (DeepSeek-R1, 2.2.2; OlympicCoder).

For code, the verifiable reward is execution: extract the last fenced code block of the
completion, run it on the problem's tests, and score the fraction passed (`code_reward`),
all-or-nothing (`binary_code_reward`), IOI subtask points (`ioi_code_reward`) or a
Codeforces verdict (`cf_code_reward`). The signatures and dataset columns are open-r1's
(`verification_info` with `language` and `test_cases`; the `open-r1/ioi` and
`open-r1/codeforces` schemas), so the same data sets plug in unchanged.

Execution lives in r1-sandbox and the graders in r1-cp-scoring, which this light package
does not depend on: install `r1-rewards[code]`. Until then these rewards raise a
`MissingExtraError` that says so, never a silent 0.0.

`code_reward` differs from open-r1's on purpose. open-r1 ships a Python evaluation script
to E2B / Morph that runs `python3 -c code` per test, so (a) every language is run as
Python, (b) a test that times out raises out of the script and the whole sample scores
0.0, (c) outputs are compared with `zip`, so a program that prints only the first line
of a two-line answer passes, and (d) router URLs are only read on some paths. Here the
host runs the program itself once per test case (stdin = the case's input) on any
r1-sandbox backend (`provider_type` "local" by default, "e2b", "morph", "piston";
`e2b_router_url` / `morph_router_url` route through a router), a timeout fails that test
only, outputs must match line for line (trailing whitespace ignored, same number of
lines), and a sample the sandbox could not grade (`SE`) scores None, which TRL skips.

Data flow: completions -> `extract_code` (in the sample's language) -> one sandbox job
per test case, one batch for the whole step (a compiled program is compiled once) ->
pass fraction per completion (None when the sandbox failed) -> the trainer.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import re
import threading
from collections.abc import Sequence
from typing import Any, Literal

from r1_rewards._completions import column, completion_texts
from r1_rewards.errors import MissingExtraError, RewardInputError

logger = logging.getLogger(__name__)

#: Seconds each test case may run (open-r1's evaluation script uses 5).
DEFAULT_TEST_TIMEOUT = 5.0


def extract_code(completion: str, language: str | None = "python") -> str:
    """The body of the last ```language fenced block, or "" when there is none.

    >>> extract_code("try:\\n```python\\nprint(1)\\n```\\nthen:\\n```python\\nprint(2)\\n```")
    'print(2)\\n'
    """
    if language is None:
        return ""
    matches = re.findall(rf"```{re.escape(language)}\n(.*?)```", completion, re.DOTALL)
    return matches[-1] if matches else ""


def _code_extra_missing(reward: str) -> MissingExtraError:
    """The error of a code reward called without r1-sandbox installed."""
    return MissingExtraError(reward, "code")


_SANDBOXES: dict[tuple[Any, ...], Any] = {}
_SANDBOXES_LOCK = threading.Lock()


def _sandbox(reward: str, provider_type: str, num_parallel: int, kwargs: dict[str, Any]) -> Any:
    """The r1-sandbox backend for these options, built once per process and reused."""
    try:
        from r1_sandbox import get_sandbox
    except ImportError:
        raise _code_extra_missing(reward) from None
    router = {"e2b": kwargs.get("e2b_router_url"), "morph": kwargs.get("morph_router_url")}.get(
        provider_type
    )
    key = (provider_type, router, num_parallel)
    with _SANDBOXES_LOCK:
        if key not in _SANDBOXES:
            if router:
                box = get_sandbox("routed", url=router, concurrency=num_parallel)
            elif provider_type == "piston":
                box = get_sandbox("piston")
            elif provider_type in ("local", "e2b", "morph"):
                box = get_sandbox(provider_type, concurrency=num_parallel)
            else:
                raise RewardInputError(
                    f"provider_type={provider_type!r} is not one of 'local', 'e2b', 'morph', "
                    "'piston'"
                )
            _SANDBOXES[key] = box
            atexit.register(box.close)
        return _SANDBOXES[key]


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]


def output_matches(actual: str, expected: str) -> bool:
    """Line-by-line equality, ignoring surrounding whitespace; the line counts must agree.

    >>> output_matches("1\\n2 \\n", "1\\n2")
    True
    >>> output_matches("1\\n", "1\\n2")  # open-r1's zip would pass this
    False
    """
    return [line.strip() for line in _lines(actual)] == [line.strip() for line in _lines(expected)]


def code_scores(
    codes: Sequence[str],
    infos: Sequence[dict[str, Any]],
    *,
    provider_type: str = "local",
    num_parallel: int = 2,
    test_timeout: float = DEFAULT_TEST_TIMEOUT,
    memory_mb: int = 512,
    **router_urls: Any,
) -> list[float | None]:
    """Pass fraction of each program on its `verification_info` tests (None: not graded)."""
    try:
        from r1_sandbox import Job, SandboxError, Status, get_language
    except ImportError:
        raise _code_extra_missing("code_reward") from None
    box = _sandbox("code_reward", provider_type, num_parallel, router_urls)
    jobs: list[Any] = []
    owners: list[tuple[int, str]] = []  # (sample, expected output) per job
    scores: list[float | None] = [0.0] * len(codes)
    for i, (code, info) in enumerate(zip(codes, infos, strict=True)):
        cases = info.get("test_cases") or []
        if not cases:
            scores[i] = None  # nothing to grade against
            continue
        if not code.strip():
            continue  # no program: every test fails
        try:
            get_language(info.get("language") or "python")
        except SandboxError as exc:
            logger.warning("code_reward: sample %d cannot be graded: %s", i, exc)
            scores[i] = None
            continue
        for case in cases:
            jobs.append(
                Job(
                    code,
                    info.get("language") or "python",
                    str(case.get("input", "")),
                    timeout=test_timeout,
                    memory_mb=memory_mb,
                )
            )
            owners.append((i, str(case.get("output", ""))))
    results = box.run_batch_sync(jobs) if jobs else []
    passed = [0] * len(codes)
    failed_sandbox = [False] * len(codes)
    for (i, expected), result in zip(owners, results, strict=True):
        if result.status is Status.SE:
            failed_sandbox[i] = True
        elif result.status is Status.OK and output_matches(result.stdout, expected):
            passed[i] += 1
    graded = {i for i, _ in owners}
    for i, info in enumerate(infos):
        if i not in graded:
            continue
        if failed_sandbox[i]:
            scores[i] = None
            continue
        scores[i] = passed[i] / len(info["test_cases"])
    n_failed = sum(failed_sandbox)
    if n_failed:
        logger.warning(
            "code_reward: the sandbox could not grade %d of %d samples", n_failed, len(codes)
        )
    return scores


def _code_inputs(
    reward: str, completions: Sequence[Any], enforce_same_language: bool, kwargs: dict[str, Any]
) -> tuple[list[str], list[dict[str, Any]]]:
    infos = column(kwargs, "verification_info", len(completions), reward)
    for info in infos:
        if not isinstance(info, dict):
            raise RewardInputError(
                f"{reward}: each verification_info must be a dict with 'language' and "
                f"'test_cases', got {type(info).__name__}"
            )
    languages = [info.get("language") or "python" for info in infos]
    if enforce_same_language and len(set(languages)) > 1:
        raise RewardInputError(
            f"{reward}: enforce_same_language=True but the batch mixes {sorted(set(languages))}"
        )
    texts = completion_texts(completions, message="last")
    codes = [extract_code(text, lang) for text, lang in zip(texts, languages, strict=True)]
    return codes, list(infos)


def code_reward(
    completions: Sequence[Any],
    num_parallel: int = 2,
    provider_type: str = "local",
    enforce_same_language: bool = False,
    *,
    test_timeout: float = DEFAULT_TEST_TIMEOUT,
    **kwargs: Any,
) -> list[float | None]:
    """Fraction of the `verification_info` test cases the extracted program passes.

    `provider_type`: "local" (r1-sandbox's local sandbox, the default), "e2b", "morph" or
    "piston"; `e2b_router_url` / `morph_router_url` send the runs through a router.
    Returns None for a sample the sandbox could not grade (TRL skips it).
    """
    codes, infos = _code_inputs("code_reward", completions, enforce_same_language, kwargs)
    return code_scores(
        codes,
        infos,
        provider_type=provider_type,
        num_parallel=num_parallel,
        test_timeout=test_timeout,
        e2b_router_url=kwargs.get("e2b_router_url"),
        morph_router_url=kwargs.get("morph_router_url"),
    )


def binary_code_reward(
    completions: Sequence[Any],
    num_parallel: int = 2,
    provider_type: str = "local",
    enforce_same_language: bool = False,
    *,
    test_timeout: float = DEFAULT_TEST_TIMEOUT,
    **kwargs: Any,
) -> list[float | None]:
    """1.0 when the extracted program passes every test case (score > 0.99), else 0.0."""
    scores = code_reward(
        completions,
        num_parallel=num_parallel,
        provider_type=provider_type,
        enforce_same_language=enforce_same_language,
        test_timeout=test_timeout,
        **kwargs,
    )
    return [None if s is None else (1.0 if s > 0.99 else 0.0) for s in scores]


def _cp_scoring(reward: str) -> Any:
    """The r1-cp-scoring module, or the error naming the `code` extra."""
    try:
        import r1_cp_scoring
    except ImportError:
        raise _code_extra_missing(reward) from None
    return r1_cp_scoring


def _cp_client(reward: str, provider_type: str) -> Any:
    """The grader's client: None (local sandbox), a Piston or a Morph client."""
    cp = _cp_scoring(reward)
    if provider_type == "local":
        return None
    if provider_type not in ("piston", "morph"):
        raise RewardInputError(
            f"{reward}: provider_type={provider_type!r} is not one of 'local', 'piston', 'morph'"
        )
    with _SANDBOXES_LOCK:
        # One client per process, as open-r1 caches it: endpoint lookups (squeue) and
        # per-endpoint bounds are shared by every reward call.
        key = ("cp-client", provider_type)
        if key not in _SANDBOXES:
            if provider_type == "piston":
                _SANDBOXES[key] = cp.get_piston_client_from_env()
            else:
                _SANDBOXES[key] = cp.get_morph_client_from_env()
        return _SANDBOXES[key]


def _rows(kwargs: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """The dataset rows behind the column keywords (columns are the per-sample lists)."""
    columns = {
        k: list(v)
        for k, v in kwargs.items()
        if isinstance(v, list | tuple) and len(v) == n and k != "completions"
    }
    return [{k: v[i] for k, v in columns.items()} for i in range(n)]


def _gather_scores(reward: str, coros: list[Any], client: Any) -> list[float | None]:
    """Run the graders concurrently; an ungradable sample (infrastructure) scores None."""
    from r1_cp_scoring import GradingUnavailableError
    from r1_sandbox import run_coroutine_sync

    async def guarded(coro: Any) -> float | None:
        try:
            return await coro
        except GradingUnavailableError as exc:
            logger.warning("%s: a sample could not be graded: %s", reward, exc)
            return None

    async def everything() -> list[float | None]:
        try:
            return list(await asyncio.gather(*(guarded(c) for c in coros)))
        finally:
            if hasattr(client, "aclose"):
                await client.aclose()  # its HTTP session belongs to this call's event loop

    return run_coroutine_sync(everything())


def ioi_code_reward(
    completions: Sequence[Any],
    test_batch_size: int = 1,
    provider_type: str = "local",
    **kwargs: Any,
) -> list[float | None]:
    """IOI subtask score in [0, 1] of the extracted C++ program (open-r1/ioi schema).

    Each row is one subtask (`id`, `subtask`, `score`, `test_names`, `grader_files`,
    `time_limit`, `memory_limit`, ...); the reward is the minimum test score of the
    subtask (CMS). `test_batch_size` tests run at once with early stop (-1: all).
    `provider_type`: "local" (default), "piston" (`PISTON_ENDPOINTS`) or "morph".
    None for a sample the infrastructure could not grade.
    """
    cp = _cp_scoring("ioi_code_reward")
    client = _cp_client("ioi_code_reward", provider_type)
    n = len(completions)
    ids = column(kwargs, "id", n, "ioi_code_reward")
    texts = completion_texts(completions, message="last")
    codes = [
        cp.add_includes(extract_code(t, "cpp"), str(pid)) for t, pid in zip(texts, ids, strict=True)
    ]

    async def one(row: dict[str, Any], code: str) -> float:
        result = await cp.score_subtask(client, row, code, test_batch_size=test_batch_size)
        return float(result.score)

    rows = _rows(kwargs, n)
    return _gather_scores(
        "ioi_code_reward", [one(r, c) for r, c in zip(rows, codes, strict=True)], client
    )


def cf_code_reward(
    completions: Sequence[Any],
    test_batch_size: int = 1,
    patch_code: bool = False,
    scoring_mode: Literal["pass_fail", "partial", "weighted_sum"] = "weighted_sum",
    provider_type: str = "local",
    **kwargs: Any,
) -> list[float | None]:
    """Codeforces score of the extracted program (open-r1/codeforces schema).

    The `language` column ("python" / "cpp") picks the fence and the compiler; scores are
    open-r1's (no tests: None, no code: -1.0, compile error: -0.1, `scoring_mode`
    pass_fail / partial / weighted_sum). `patch_code` applies r1-cp-scoring's repairs.
    None also for a sample the infrastructure could not grade.
    """
    cp = _cp_scoring("cf_code_reward")
    client = _cp_client("cf_code_reward", provider_type)
    n = len(completions)
    languages = list(kwargs["language"]) if kwargs.get("language") is not None else [None] * n
    texts = completion_texts(completions, message="last")
    codes = []
    for text, language in zip(texts, languages, strict=True):
        code = extract_code(text, language)
        codes.append(cp.patch_code(code, language) if patch_code and language else code)
    rows = _rows(kwargs, n)
    coros = [
        cp.score_submission(
            client,
            row,
            code,
            test_batch_size=test_batch_size,
            scoring_mode=scoring_mode,
            submission_language=row.get("language") or "cpp",
        )
        for row, code in zip(rows, codes, strict=True)
    ]
    return _gather_scores("cf_code_reward", coros, client)
