"""Format, tag, step, repetition, overlong and code-format rewards: open-r1's behaviour.

Each table row is a case open-r1's own tests pin (or a neighbour of one), run in both
completion formats TRL uses.
"""

from __future__ import annotations

import pickle

import pytest

from r1_rewards import (
    extract_code,
    format_reward,
    get_code_format_reward,
    get_repetition_penalty_reward,
    get_soft_overlong_punishment,
    reasoning_steps_reward,
    tag_count_reward,
)
from r1_rewards.errors import RewardInputError

TEMPLATE = "<think>\nSome reasoning\n</think>\n<answer>\nThe answer\n</answer>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TEMPLATE, 1.0),
        # newlines inside the sections are fine (DOTALL)
        ("<think>\nI count:\n1. a\n2. b\n\nSo two.\n</think>\n<answer>\n2\n</answer>", 1.0),
        ("<think>Only thinking</think>", 0.0),
        ("<answer>Only answer</answer>", 0.0),
        ("No tags at all", 0.0),
        ("<think>Missing closing</think><answer>Missing closing", 0.0),
        ("<think>Wrong order</answer><answer>Wrong order</think>", 0.0),
        # the newline after each tag is part of the template
        ("<think>x</think>\n<answer>\ny\n</answer>", 0.0),
        ("", 0.0),
    ],
)
def test_format_reward(fmt, text, expected):
    assert format_reward(fmt([text])) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TEMPLATE, 1.0),
        ("Some reasoning\n</think>\n<answer>\nThe answer\n</answer>", 0.75),
        ("<think>\nSome reasoning\n<answer>\nThe answer\n</answer>", 0.75),
        ("<think>\nSome reasoning\n</think>\nThe answer\n</answer>", 0.75),
        ("<think>\nSome reasoning\n</think>\n<answer>\nThe answer", 0.75),
        ("Some reasoning\nThe answer", 0.0),
        # a tag that appears twice earns nothing
        ("<think>\n<think>\nx\n</think>\n<answer>\ny\n</answer>", 0.75),
    ],
)
def test_tag_count_reward(fmt, text, expected):
    assert tag_count_reward(fmt([text])) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Step 1: a\nStep 2: b\nStep 3: c", 1.0),
        ("First, a.\nSecond, b.\nFinally, c.", 1.0),
        ("Step 1: only one", 1 / 3),
        ("First, a.\nFinally, c.", 2 / 3),
        ("plain text without structure", 0.0),
        # more than three steps is still full credit
        ("Step 1: a\nStep 2: b\nStep 3: c\nStep 4: d\n- e", 1.0),
        ("x\n- bullet\n* star", 2 / 3),
    ],
)
def test_reasoning_steps_reward(fmt, text, expected):
    assert reasoning_steps_reward(fmt([text]))[0] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("ngram", "penalty", "text", "expected"),
    [
        (2, -1.0, "this is a test sentence", 0.0),
        (2, -1.0, "this this this this this", -0.75),  # 1 unique of 4
        (2, -1.0, "this is a this is a test", -1 / 3),  # 4 unique of 6
        (3, -0.5, "this is a test", 0.0),
        (3, -0.5, "test test test test", -0.25),
        (2, -1.0, "", 0.0),
        (3, -2.0, "this is a this is a test", -0.4),
        (3, -1.0, "word", 0.0),  # shorter than one n-gram
        (3, -1.0, "two words", 0.0),
        (3, -1.0, "three different words", 0.0),
        (3, -1.0, "word word word word", -0.5),
        (3, -1.0, "one two one two", 0.0),
        (3, -0.5, "A B C A B", 0.0),
        (3, -1.0, "A B C A B C", -0.25),
        (3, -1.0, "A B C A B C E F G A B C A B C", -5 / 13),
        (3, -1.0, "A B C D E F G H I J K L", 0.0),
    ],
)
def test_repetition_penalty(fmt, ngram, penalty, text, expected):
    reward = get_repetition_penalty_reward(ngram_size=ngram, max_penalty=penalty)
    assert reward(fmt([text]))[0] == pytest.approx(expected)


def test_repetition_penalty_ignores_case():
    reward = get_repetition_penalty_reward(ngram_size=2, max_penalty=-1.0)
    assert reward(["This is A Test", "this IS a test"]) == [0.0, 0.0]
    assert reward(["Go go GO go"]) == reward(["go go go go"])


def test_repetition_penalty_chinese_uses_word_segmentation():
    pytest.importorskip("jieba")
    reward = get_repetition_penalty_reward(ngram_size=2, max_penalty=-1.0, language="zh")
    assert reward([[{"content": "这个这个这个这个这个"}]]) == [-0.75]
    english = get_repetition_penalty_reward(ngram_size=2, max_penalty=-1.0, language="en")
    assert english(["that that that that that"]) == [-0.75]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ngram_size": 2, "max_penalty": 1.5}, "max_penalty 1.5 should not be positive"),
        ({"ngram_size": 0, "max_penalty": -1.0}, "ngram_size=0"),
        ({"ngram_size": 2, "max_penalty": -1.0, "language": "fr"}, "language='fr'"),
    ],
)
def test_repetition_penalty_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        get_repetition_penalty_reward(**kwargs)


@pytest.mark.parametrize(
    ("length", "expected"),
    [(50, 0.0), (80, 0.0), (90, -0.5), (100, -1.0), (110, -1.0), (0, 0.0)],
)
def test_soft_overlong_punishment(length, expected):
    reward = get_soft_overlong_punishment(max_completion_len=100, soft_punish_cache=20)
    assert reward(completion_ids=[[1] * length]) == [pytest.approx(expected)]
    # positional, as open-r1's tests call it
    assert reward([[7] * length]) == [pytest.approx(expected)]


def test_soft_overlong_punishment_validates():
    with pytest.raises(ValueError, match="soft_punish_cache=200"):
        get_soft_overlong_punishment(max_completion_len=100, soft_punish_cache=200)
    with pytest.raises(ValueError, match="max_completion_len=0"):
        get_soft_overlong_punishment(max_completion_len=0, soft_punish_cache=0)
    reward = get_soft_overlong_punishment(max_completion_len=100, soft_punish_cache=0)
    assert reward([[1] * 100, [1] * 101]) == [0.0, -1.0]
    with pytest.raises(RewardInputError, match="completion_ids"):
        reward(completions=["text only"])


CODE_OK = "<think>\nLet's solve this\n</think>\n<answer>\n```python\ndef f():\n    return 1\n```\n</answer>"


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("python", CODE_OK, 1.0),
        ("python", "```python\ndef hello():\n    print('world')\n```", 0.0),
        ("python", "<think>Some thinking</think><answer>Just plain text</answer>", 0.0),
        ("python", "<think>A</think><answer>```javascript\nconsole.log(1);\n```</answer>", 0.0),
        ("python", "<think>A</think><answer>```\ndef hello(): pass\n```</answer>", 0.0),
        ("python", "<answer>```python\npass\n```</answer><think>A</think>", 0.0),
        (
            "python",
            "<think>\nex:\n```python\nx = 1\n```\n</think>\n<answer>\n```python\ny = 2\n```\n</answer>",
            1.0,
        ),
        (
            "javascript",
            "<think>\nA\n</think>\n<answer>\n```javascript\nconsole.log(1);\n```\n</answer>",
            1.0,
        ),
        (
            "python",
            "<think>\nA\n</think>\n<answer>\n```javascript\nconsole.log(1);\n```\n</answer>",
            0.0,
        ),
        # a language with regex metacharacters (open-r1 raises re.error here)
        ("c++", "<think>\nA\n</think>\n<answer>\n```c++\nint main() {}\n```\n</answer>", 1.0),
    ],
)
def test_code_format_reward(fmt, language, text, expected):
    assert get_code_format_reward(language=language)(fmt([text])) == [expected]


def test_code_format_reward_reads_a_language_column():
    reward = get_code_format_reward(language="python")
    cpp = "<think>\nA\n</think>\n<answer>\n```cpp\nint main() {}\n```\n</answer>"
    assert reward([CODE_OK, cpp], language=["python", "cpp"]) == [1.0, 1.0]
    assert reward([CODE_OK, cpp]) == [1.0, 0.0]


def test_extract_code_takes_the_last_block_of_the_language():
    text = "```python\na = 1\n```\nand\n```cpp\nint x;\n```\n```python\nb = 2\n```"
    assert extract_code(text) == "b = 2\n"
    assert extract_code(text, "cpp") == "int x;\n"
    assert extract_code(text, "rust") == ""
    assert extract_code(text, None) == ""
    assert extract_code("no code at all") == ""


def test_parametrised_rewards_pickle_and_keep_their_names():
    rewards = [
        get_repetition_penalty_reward(3, -1.0),
        get_soft_overlong_punishment(100, 20),
        get_code_format_reward("cpp"),
    ]
    for reward in rewards:
        clone = pickle.loads(pickle.dumps(reward))
        assert clone.__name__ == reward.__name__
        assert clone(completions=["a b c a b c"], completion_ids=[[1] * 90]) == reward(
            completions=["a b c a b c"], completion_ids=[[1] * 90]
        )


@pytest.mark.parametrize("bad", [42, None, [42], b"bytes"])
def test_malformed_completion_structure_is_a_clear_error(bad):
    with pytest.raises(RewardInputError, match="completion"):
        format_reward([bad])


def test_message_content_edge_cases():
    # None content (a tool call, say) is empty text; multimodal parts keep their text.
    assert format_reward([[{"role": "assistant", "content": None}]]) == [0.0]
    parts = [{"type": "text", "text": TEMPLATE[:20]}, {"type": "text", "text": TEMPLATE[20:]}]
    assert format_reward([[{"role": "assistant", "content": parts}]]) == [1.0]
    assert format_reward([[]]) == [0.0]
