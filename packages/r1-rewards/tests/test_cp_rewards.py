"""ioi_code_reward / cf_code_reward on real problems through r1-cp-scoring's local graders."""

import sys
from pathlib import Path

import pytest

pytest.importorskip("r1_cp_scoring")
sys.path.insert(0, str(Path(__file__).parents[2] / "r1-cp-scoring" / "tests"))

from problems import SUMPAIR_SUBMISSIONS, anypair_problem, sumpair_rows

from r1_rewards import cf_code_reward, ioi_code_reward
from r1_rewards.errors import RewardInputError


def fenced(code: str, language: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": f"Here:\n```{language}\n{code}\n```"}]


def columns(rows: list[dict]) -> dict[str, list]:
    return {key: [row[key] for row in rows] for key in rows[0]}


@pytest.mark.slow
def test_ioi_reward_is_the_subtask_minimum_per_row():
    rows = sumpair_rows()[1:]  # subtasks 1, 2, 3
    code = SUMPAIR_SUBMISSIONS["overflow"][0]  # wrong on subtask 3 only
    completions = [fenced(code, "cpp")] * len(rows) + [fenced("", "python")]
    rows = [*rows, rows[0]]  # the last completion has no C++ block: 0.0
    assert ioi_code_reward(completions, **columns(rows)) == [1.0, 1.0, 0.0, 0.0]


def test_cf_reward_uses_open_r1_values_per_language():
    problem = anypair_problem()
    py_ok = "s = int(input())\nprint(s, 0)"
    completions = [
        fenced(py_ok, "python"),
        fenced("int main(){return x;}", "cpp"),
        [{"role": "assistant", "content": "no code"}],
    ]
    rows = [
        dict(problem, language="python"),
        dict(problem, language="cpp"),
        dict(problem, language="python"),
    ]
    scores = cf_code_reward(completions, scoring_mode="weighted_sum", **columns(rows))
    assert scores == [pytest.approx(1.1), -0.1, -1.0]
    no_tests = dict(problem, official_tests=[], language="python")
    assert cf_code_reward([completions[0]], **columns([no_tests])) == [None]


def test_cf_reward_patches_code_when_asked():
    problem = dict(anypair_problem(), language="python")
    old_python = "from fractions import gcd\ns = int(input())\nprint(gcd(s, 0) * 0, s)"
    completions = [fenced(old_python, "python")]
    assert cf_code_reward(completions, scoring_mode="pass_fail", **columns([problem])) == [0.0]
    assert cf_code_reward(
        completions, patch_code=True, scoring_mode="pass_fail", **columns([problem])
    ) == [1.0]


def test_unknown_provider_is_named():
    with pytest.raises(RewardInputError, match="provider_type='docker'"):
        ioi_code_reward(
            [fenced("int x;", "cpp")], provider_type="docker", **columns(sumpair_rows()[:1])
        )


def test_piston_provider_without_endpoints_says_how_to_set_them(monkeypatch):
    from r1_cp_scoring import ConfigError

    monkeypatch.delenv("PISTON_ENDPOINTS", raising=False)
    with pytest.raises(ConfigError, match="PISTON_ENDPOINTS"):
        cf_code_reward(
            [fenced("print(1)", "python")],
            provider_type="piston",
            **columns([dict(anypair_problem(), language="python")]),
        )
