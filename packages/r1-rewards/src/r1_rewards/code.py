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
The contest rewards grade each row on its own: a row the grader fails on (a broken
checker, an unknown language, a provider error) is None with its reason logged, and
counted as ungraded by `record_outcomes`; the other rows of the step are graded.

Data flow: completions -> `extract_code` (in the sample's language) -> one sandbox job
per test case, one batch for the whole step (a compiled program is compiled once) ->
pass fraction per completion (None when the sandbox failed) -> the trainer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, Literal

from r1_rewards._completions import column, completion_texts
from r1_rewards.errors import MissingExtraError, RewardInputError
from r1_rewards.outcomes import record
from r1_rewards.verdicts import Reason, Verdict

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


_CLIENTS: dict[tuple[Any, ...], Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _sandbox(reward: str, provider_type: str, num_parallel: int, kwargs: dict[str, Any]) -> Any:
    """The process's r1-sandbox backend for these options (r1-sandbox's `shared_sandbox`).

    Every code reward and both graders take their sandbox from the same registry, so one
    `num_parallel` (`parallel_code_exec_per_proc`) bounds them all together.
    """
    try:
        from r1_sandbox import shared_sandbox
    except ImportError:
        raise _code_extra_missing(reward) from None
    router = {"e2b": kwargs.get("e2b_router_url"), "morph": kwargs.get("morph_router_url")}.get(
        provider_type
    )
    if router:
        return shared_sandbox("routed", url=router, concurrency=num_parallel)
    if provider_type == "piston":
        from r1_sandbox.piston import endpoints_from_env

        # Keyed by the endpoints the environment names now; its bound is the fleet's.
        return shared_sandbox("piston", endpoints=endpoints_from_env() or None)
    if provider_type in ("local", "e2b", "morph"):
        return shared_sandbox(provider_type, concurrency=num_parallel)
    raise RewardInputError(
        f"provider_type={provider_type!r} is not one of 'local', 'e2b', 'morph', 'piston'"
    )


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


def code_verdicts(
    codes: Sequence[str],
    infos: Sequence[Any],
    *,
    provider_type: str = "local",
    num_parallel: int = 2,
    test_timeout: float = DEFAULT_TEST_TIMEOUT,
    memory_mb: int = 512,
    **router_urls: Any,
) -> list[Verdict]:
    """The verdict of each program on its `verification_info` tests (pass fraction)."""
    try:
        from r1_sandbox import Job, SandboxError, Status, get_language
    except ImportError:
        raise _code_extra_missing("code_reward") from None
    box = _sandbox("code_reward", provider_type, num_parallel, router_urls)
    jobs: list[Any] = []
    owners: list[tuple[int, str]] = []  # (sample, expected output) per job
    verdicts: list[Verdict | None] = [None] * len(codes)
    for i, (code, info) in enumerate(zip(codes, infos, strict=True)):
        if not isinstance(info, dict):
            verdicts[i] = _not_graded(
                "code_reward",
                i,
                Reason.GRADER_ERROR,
                f"verification_info is a {type(info).__name__}, not a dict with 'language' "
                "and 'test_cases'",
            )
            continue
        cases = info.get("test_cases") or []
        if not cases:
            verdicts[i] = Verdict(None, Reason.NO_TESTS)  # nothing to grade against
            continue
        if not code.strip():
            verdicts[i] = Verdict(0.0, Reason.NO_CODE)  # no program: every test fails
            continue
        language = info.get("language") or "python"
        try:
            get_language(language)
        except SandboxError as exc:
            verdicts[i] = _not_graded("code_reward", i, Reason.UNSUPPORTED_LANGUAGE, str(exc))
            continue
        if not all(isinstance(case, dict) for case in cases):
            verdicts[i] = _not_graded(
                "code_reward", i, Reason.GRADER_ERROR, "a test case is not an input/output dict"
            )
            continue
        for case in cases:
            jobs.append(
                Job(
                    code,
                    language,
                    str(case.get("input", "")),
                    timeout=test_timeout,
                    memory_mb=memory_mb,
                )
            )
            owners.append((i, str(case.get("output", ""))))
    results = box.run_batch_sync(jobs) if jobs else []
    passed = [0] * len(codes)
    sandbox_errors: dict[int, str] = {}
    for (i, expected), result in zip(owners, results, strict=True):
        if result.status is Status.SE:
            sandbox_errors.setdefault(i, result.message)
        elif result.status is Status.OK and output_matches(result.stdout, expected):
            passed[i] += 1
    for i in {i for i, _ in owners}:
        if i in sandbox_errors:
            verdicts[i] = Verdict(None, Reason.SANDBOX_ERROR, codes[i], sandbox_errors[i])
            continue
        total = len(infos[i]["test_cases"])
        verdicts[i] = Verdict(
            passed[i] / total, Reason.TESTS_RUN, codes[i], f"{passed[i]} of {total} tests passed"
        )
    if sandbox_errors:
        logger.warning(
            "code_reward: the sandbox could not grade %d of %d samples (first: %s)",
            len(sandbox_errors),
            len(codes),
            next(iter(sandbox_errors.values())),
        )
    return [v if v is not None else Verdict(None, Reason.GRADER_ERROR) for v in verdicts]


def code_scores(codes: Sequence[str], infos: Sequence[Any], **options: Any) -> list[float | None]:
    """Pass fraction of each program on its `verification_info` tests (None: not graded)."""
    return [v.score for v in code_verdicts(codes, infos, **options)]


def _not_graded(reward: str, row: int, reason: Reason, detail: str) -> Verdict:
    """A None verdict, logged with the row and the cause (TRL skips the sample)."""
    logger.warning("%s: row %d not graded (%s): %s", reward, row, reason.value, detail)
    return Verdict(None, reason, detail=detail)


def _code_inputs(
    reward: str, completions: Sequence[Any], enforce_same_language: bool, kwargs: dict[str, Any]
) -> tuple[list[str], list[Any]]:
    infos = column(kwargs, "verification_info", len(completions), reward)
    languages = [
        (info.get("language") or "python") if isinstance(info, dict) else None for info in infos
    ]
    if enforce_same_language and len(set(languages)) > 1:
        raise RewardInputError(
            f"{reward}: enforce_same_language=True but the batch mixes "
            f"{sorted(str(lang) for lang in set(languages))}"
        )
    texts = completion_texts(completions, message="last")
    codes = [extract_code(text, lang) for text, lang in zip(texts, languages, strict=True)]
    return codes, list(infos)


def code_reward_details(
    completions: Sequence[Any],
    num_parallel: int = 2,
    provider_type: str = "local",
    enforce_same_language: bool = False,
    *,
    test_timeout: float = DEFAULT_TEST_TIMEOUT,
    **kwargs: Any,
) -> list[Verdict]:
    """`code_reward` with each score's reason, the extracted program and the tests passed."""
    codes, infos = _code_inputs("code_reward", completions, enforce_same_language, kwargs)
    return code_verdicts(
        codes,
        infos,
        provider_type=provider_type,
        num_parallel=num_parallel,
        test_timeout=test_timeout,
        e2b_router_url=kwargs.get("e2b_router_url"),
        morph_router_url=kwargs.get("morph_router_url"),
    )


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
    `enforce_same_language`: raise `RewardInputError` when a batch mixes languages (as
    open-r1 does); otherwise each sample runs in its own `verification_info` language.
    Returns None for a sample that could not be graded (TRL skips it), with a logged reason.
    """
    verdicts = code_reward_details(
        completions,
        num_parallel,
        provider_type,
        enforce_same_language,
        test_timeout=test_timeout,
        **kwargs,
    )
    record("code_reward", verdicts)
    return [v.score for v in verdicts]


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
    verdicts = code_reward_details(
        completions,
        num_parallel,
        provider_type,
        enforce_same_language,
        test_timeout=test_timeout,
        **kwargs,
    )
    record("binary_code_reward", verdicts)
    return [None if v.score is None else (1.0 if v.score > 0.99 else 0.0) for v in verdicts]


def _cp_scoring(reward: str) -> Any:
    """The r1-cp-scoring module, or the error naming the `code` extra."""
    try:
        import r1_cp_scoring
    except ImportError:
        raise _code_extra_missing(reward) from None
    return r1_cp_scoring


_CP_PROVIDERS = ("local", "piston", "morph")


def _cp_client(reward: str, provider_type: str, options: dict[str, Any]) -> Any:
    """What the graders run on: the shared local sandbox, a Piston client, or Morph.

    For Codeforces, Morph is r1-sandbox's Morph backend (or the `morph_router_url`
    router), which the grader runs like any sandbox; IOI gets the `cms_ioi` client
    (`MorphCloudExecutionClient`) over the same backend.
    """
    cp = _cp_scoring(reward)
    if provider_type not in _CP_PROVIDERS:
        raise RewardInputError(
            f"{reward}: provider_type={provider_type!r} is not one of "
            f"{', '.join(map(repr, _CP_PROVIDERS))}"
        )
    num_parallel = int(options.get("num_parallel") or 2)
    if provider_type == "local":
        # The same object as code_reward's for the same num_parallel: one bound for all.
        return _sandbox(reward, "local", num_parallel, options)
    if provider_type == "morph":
        box = _sandbox(reward, "morph", num_parallel, options)
        return box if reward == "cf_code_reward" else cp.MorphCloudExecutionClient(sandbox=box)
    with _CLIENTS_LOCK:
        # One client per process, as open-r1 caches it: endpoint lookups (squeue) and
        # per-endpoint bounds are shared by every reward call.
        key = ("cp-client", provider_type, os.environ.get("PISTON_ENDPOINTS"))
        if key not in _CLIENTS:
            _CLIENTS[key] = cp.get_piston_client_from_env()
        return _CLIENTS[key]


def _rows(kwargs: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """The dataset rows behind the column keywords (columns are the per-sample lists)."""
    columns = {
        k: list(v)
        for k, v in kwargs.items()
        if isinstance(v, list | tuple) and len(v) == n and k != "completions"
    }
    return [{k: v[i] for k, v in columns.items()} for i in range(n)]


def _gather_verdicts(
    reward: str, coros: list[Coroutine[Any, Any, Verdict] | Verdict], client: Any
) -> list[Verdict]:
    """Run the graders concurrently; a row the grader fails on is None with its reason.

    One bad row (a broken checker, a missing column, a provider that dropped the request)
    must not take the other rows of the step down with it: its error becomes a None
    verdict, logged with the row. An optional dependency that is missing still raises.
    """
    from r1_cp_scoring import GradingUnavailableError
    from r1_sandbox import Sandbox, run_coroutine_sync

    async def guarded(row: int, coro: Coroutine[Any, Any, Verdict] | Verdict) -> Verdict:
        if isinstance(coro, Verdict):
            return coro
        try:
            return await coro
        except ImportError:
            raise
        except GradingUnavailableError as exc:
            return _not_graded(reward, row, Reason.SANDBOX_ERROR, f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            return _not_graded(reward, row, Reason.GRADER_ERROR, f"{type(exc).__name__}: {exc}")

    async def everything() -> list[Verdict]:
        try:
            return list(await asyncio.gather(*(guarded(i, c) for i, c in enumerate(coros))))
        finally:
            # What the client opened on this call's loop (HTTP sessions) dies with it; a
            # shared sandbox itself stays open for the next call.
            if isinstance(client, Sandbox):
                await client._release_loop()
            elif hasattr(client, "aclose"):
                await client.aclose()

    return run_coroutine_sync(everything())


def ioi_code_reward_details(
    completions: Sequence[Any],
    test_batch_size: int = 1,
    provider_type: str = "local",
    **kwargs: Any,
) -> list[Verdict]:
    """`ioi_code_reward` with each score's reason and the extracted program."""
    cp = _cp_scoring("ioi_code_reward")
    from r1_cp_scoring.batching import check_batch_size

    check_batch_size(test_batch_size)
    client = _cp_client("ioi_code_reward", provider_type, kwargs)
    n = len(completions)
    ids = column(kwargs, "id", n, "ioi_code_reward")
    texts = completion_texts(completions, message="last")
    codes = [
        cp.add_includes(extract_code(t, "cpp"), str(pid)) for t, pid in zip(texts, ids, strict=True)
    ]
    raw = [extract_code(t, "cpp") for t in texts]

    async def one(row: dict[str, Any], code: str, extracted: str) -> Verdict:
        result = await cp.score_subtask(client, row, code, test_batch_size=test_batch_size)
        if not extracted:
            return Verdict(float(result.score), Reason.NO_CODE)
        detail = f"subtask {result.subtask}: {result.status}"
        return Verdict(float(result.score), Reason.TESTS_RUN, extracted, detail)

    rows = _rows(kwargs, n)
    coros: list[Coroutine[Any, Any, Verdict] | Verdict] = [
        one(r, c, e) for r, c, e in zip(rows, codes, raw, strict=True)
    ]
    return _gather_verdicts("ioi_code_reward", coros, client)


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
    None, with a logged reason, for a row the grader or the provider could not grade.
    """
    verdicts = ioi_code_reward_details(completions, test_batch_size, provider_type, **kwargs)
    record("ioi_code_reward", verdicts)
    return [v.score for v in verdicts]


def cf_code_reward_details(
    completions: Sequence[Any],
    test_batch_size: int = 1,
    patch_code: bool = False,
    scoring_mode: Literal["pass_fail", "partial", "weighted_sum"] = "weighted_sum",
    provider_type: str = "local",
    **kwargs: Any,
) -> list[Verdict]:
    """`cf_code_reward` with each score's reason and the extracted program."""
    cp = _cp_scoring("cf_code_reward")
    from r1_cp_scoring.batching import check_batch_size
    from r1_cp_scoring.codeforces import SCORING_MODES, normalize_language

    if scoring_mode not in SCORING_MODES:
        raise RewardInputError(
            f"cf_code_reward: scoring_mode={scoring_mode!r} is not one of {SCORING_MODES}"
        )
    check_batch_size(test_batch_size)
    client = _cp_client("cf_code_reward", provider_type, kwargs)
    n = len(completions)
    column_given = kwargs.get("language") is not None
    languages = list(kwargs["language"]) if column_given else [None] * n
    if not column_given:
        logger.warning(
            "cf_code_reward: the data set has no 'language' column; %d rows not graded", n
        )
    texts = completion_texts(completions, message="last")
    rows = _rows(kwargs, n)

    async def one(row: dict[str, Any], code: str, language: str) -> Verdict:
        score = await cp.score_submission(
            client,
            row,
            code,
            test_batch_size=test_batch_size,
            scoring_mode=scoring_mode,
            submission_language=language,
        )
        if score is None:
            return Verdict(None, Reason.NO_TESTS)
        if not code:
            return Verdict(float(score), Reason.NO_CODE)
        return Verdict(float(score), Reason.TESTS_RUN, code)

    coros: list[Coroutine[Any, Any, Verdict] | Verdict] = []
    for i, (text, language, row) in enumerate(zip(texts, languages, rows, strict=True)):
        # open-r1 cannot grade a row without a language (its grader rejects it, and the
        # reward is None); scoring it as "no code" (-1.0) would punish the model for
        # the data set.
        if not language:
            if column_given:
                coros.append(
                    _not_graded("cf_code_reward", i, Reason.NO_LANGUAGE, "the row has no language")
                )
            else:  # logged once above
                coros.append(Verdict(None, Reason.NO_LANGUAGE, detail="no 'language' column"))
            continue
        try:
            normalize_language(language)
        except cp.ConfigError as exc:
            coros.append(_not_graded("cf_code_reward", i, Reason.UNSUPPORTED_LANGUAGE, str(exc)))
            continue
        code = extract_code(text, language)
        if patch_code:
            code = cp.patch_code(code, language)
        coros.append(one(row, code, language))
    return _gather_verdicts("cf_code_reward", coros, client)


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
    `provider_type`: "local" (default), "piston" (`PISTON_ENDPOINTS`) or "morph"
    (r1-sandbox's Morph backend, or `morph_router_url`). None, with a logged reason, for
    a row without a language and for a row the grader or the provider could not grade.
    """
    verdicts = cf_code_reward_details(
        completions, test_batch_size, patch_code, scoring_mode, provider_type, **kwargs
    )
    record("cf_code_reward", verdicts)
    return [v.score for v in verdicts]
