"""`r1-train grpo`: Group Relative Policy Optimization with r1-rewards (DeepSeekMath, 2.2;
DeepSeek-R1, 2.2.1).

GRPO drops PPO's value network: for each prompt it samples a group of G completions,
scores each with rule-based rewards, and uses a completion's reward minus its group's
mean (divided by the group's std unless `scale_rewards` is off) as the advantage of every
token in it. The rewards are the verifiable ones R1 used (accuracy, format) plus the
shaping terms later work added; TRL's `GRPOTrainer` samples (in-process or on vLLM) and
takes the clipped policy step, r1-rewards scores, with the weights of `reward_weights`.

Two things TRL 1.x does not do and open-r1's runs relied on, added here:
- `R1GRPOTrainer` keeps the last `max_prompt_length` tokens of a prompt, as TRL 0.18 did
  (1.x removed the cap, so a long prompt would silently change the batch's shape and cost);
- `GradedReward` makes grading unable to crash a step: a reward that raises scores the
  batch None (TRL skips None) with the reason logged, and the share of ungraded samples
  of each reward reaches the trainer's metrics as `rewards/<name>/ungraded`, through the
  `log_metric` hook TRL hands every reward function, beside `rewards/<name>/timed_out`
  (samples whose grader hit its time limit: scored wrong, as in open-r1, but counted), read
  from r1-rewards' typed verdicts through `record_outcomes`.

Data flow: dataset rows -> chat `prompt` (+ the columns the rewards read, e.g.
`solution`, `verification_info`) -> R1GRPOTrainer samples G completions per prompt ->
`GradedReward(get_reward_funcs(script_args))` scores them -> group advantages -> policy
update -> checkpoints in `output_dir`; ungraded and timed-out shares -> the trainer's
logged metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from trl import GRPOTrainer

from r1_train.training import Stage, TrainerInputs, make_conversation, run_stage

if TYPE_CHECKING:
    from datasets import DatasetDict
    from transformers import PreTrainedModel, PreTrainedTokenizerBase
    from trl import ModelConfig

    from r1_train.configs import GRPOConfig, GRPOScriptArguments
    from r1_train.training import StageScriptArgs, TrainConfig

logger = logging.getLogger(__name__)

RewardFunc = Callable[..., list[float | None]]


class GradedReward:
    """A reward function that never raises into the trainer and reports what it left ungraded.

    Called as TRL calls rewards (`fn(prompts=..., completions=..., **columns)`); returns the
    wrapped function's scores, or None for every sample when it raised.
    """

    def __init__(self, fn: RewardFunc) -> None:
        from trl.trainer.utils import get_callable_name

        self.fn = fn
        # TRL names the reward's metrics after `__name__`: keep the wrapped function's.
        self.__name__ = get_callable_name(fn)

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        from r1_rewards import Outcome, record_outcomes

        log_metric: Callable[[str, float], None] | None = kwargs.get("log_metric")
        try:
            with record_outcomes() as outcomes:
                scores: list[float | None] = list(self.fn(completions, **kwargs))
        except Exception as error:  # a grader failure is "could not grade", not a dead step
            logger.warning(
                "reward %s could not grade a batch of %d completions (scored None): %s: %s",
                self.__name__,
                len(completions),
                type(error).__name__,
                error,
            )
            scores = [None] * len(completions)
        if log_metric is not None and scores:
            ungraded = sum(score is None for score in scores) / len(scores)
            log_metric(f"rewards/{self.__name__}/ungraded", ungraded)
            # Counted by the reward's own verdicts; a reward outside r1-rewards reports none.
            timed_out = sum(
                n
                for (name, kind), n in outcomes.items()
                if name == self.__name__ and kind is Outcome.TIMED_OUT
            )
            log_metric(f"rewards/{self.__name__}/timed_out", timed_out / len(scores))
        return scores

    def __repr__(self) -> str:
        return f"GradedReward({self.__name__})"


def graded_reward_funcs(script_args: GRPOScriptArguments) -> list[GradedReward]:
    """The rewards `reward_funcs` names, each wrapped in `GradedReward`."""
    from r1_rewards import get_reward_funcs

    return [GradedReward(fn) for fn in get_reward_funcs(script_args)]


class R1GRPOTrainer(GRPOTrainer):
    """TRL's GRPOTrainer with TRL 0.18's prompt cap (`max_prompt_length`, left truncation)."""

    _warned_truncation = False

    def _tokenize_prompts(self, prompts: list[Any]) -> tuple[Any, Any, Any]:
        prompt_ids, images, multimodal_fields = super()._tokenize_prompts(prompts)
        cap: int | None = getattr(self.args, "max_prompt_length", None)
        if cap is None:
            return prompt_ids, images, multimodal_fields
        if images is not None or multimodal_fields:
            # Cutting a prompt would cut its image tokens apart from their pixels.
            if not self._warned_truncation:
                logger.warning("max_prompt_length is not applied to multimodal prompts")
                self._warned_truncation = True
            return prompt_ids, images, multimodal_fields
        # TRL 0.18 kept the last max_prompt_length tokens (left truncation): the question
        # sits at the end of the chat, after any system prompt.
        cut = [list(ids)[-cap:] for ids in prompt_ids]
        if not self._warned_truncation and any(
            len(a) != len(b) for a, b in zip(cut, prompt_ids, strict=True)
        ):
            logger.warning(
                "prompts longer than max_prompt_length=%d tokens keep their last %d tokens "
                "(as in TRL 0.18 / open-r1); raise max_prompt_length or set it to None to keep "
                "them whole",
                cap,
                cap,
            )
            self._warned_truncation = True
        return cut, images, multimodal_fields


def prepare_data(
    dataset: DatasetDict, script_args: StageScriptArgs, training_args: TrainConfig
) -> DatasetDict:
    """Rows -> chat prompts (system prompt first); SFT `messages` dropped."""
    dataset = dataset.map(
        make_conversation(script_args.dataset_prompt_column, training_args.system_prompt)
    )
    for split in dataset:
        # SFT-style `messages` would be read by TRL as a second prompt format.
        if "messages" in dataset[split].column_names:
            dataset[split] = dataset[split].remove_columns("messages")
    return dataset


def prepare_model(tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel) -> None:
    """GRPO uses the tokenizer's (or the recipe's) chat template as it is."""


def build_trainer(inputs: TrainerInputs) -> R1GRPOTrainer:
    """R1GRPOTrainer with r1-rewards' functions, each made unable to crash a step."""
    from trl import get_peft_config

    from r1_train.configs import GRPOConfig, GRPOScriptArguments

    assert isinstance(inputs.script_args, GRPOScriptArguments)
    assert isinstance(inputs.training_args, GRPOConfig)
    rewards: list[Any] = list(graded_reward_funcs(inputs.script_args))
    return R1GRPOTrainer(
        model=inputs.model,
        reward_funcs=rewards,
        args=inputs.training_args,
        train_dataset=inputs.train_dataset,
        eval_dataset=inputs.eval_dataset,
        peft_config=get_peft_config(inputs.model_args),
        callbacks=inputs.callbacks,
        processing_class=inputs.tokenizer,
    )


STAGE = Stage(
    name="grpo", prepare_data=prepare_data, prepare_model=prepare_model, build_trainer=build_trainer
)


def main(
    script_args: GRPOScriptArguments, training_args: GRPOConfig, model_args: ModelConfig
) -> dict[str, float]:
    """Run GRPO as the three configs say; returns the training metrics."""
    return run_stage(STAGE, script_args, training_args, model_args)
