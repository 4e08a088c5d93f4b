"""r1-train: SFT and GRPO for the DeepSeek-R1 recipe on TRL."""

__version__ = "0.1.0"
