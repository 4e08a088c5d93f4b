"""The errors of r1-slurm, one per exit status of the CLI.

    SlurmError                  base: anything r1-slurm refuses or cannot do
    ├── SlurmConfigError        a flag, recipe or site file is wrong (exit 2)
    ├── SlurmUnavailableError   no sbatch/squeue on PATH, or the controller does not answer (exit 3)
    └── SubmitError             SLURM answered but refused or lost the job (exit 1)

Each message names the value, the rule and the fix, so the CLI prints it as one line.

Data flow: raised by `site`, `render` and `jobs` -> caught once in `cli.main` -> stderr and
the exit status.
"""

from __future__ import annotations


class SlurmError(Exception):
    """Base class of every r1-slurm error."""

    exit_code = 1


class SlurmConfigError(SlurmError, ValueError):
    """A flag, recipe or site-file value that cannot make a valid job."""

    exit_code = 2


class SlurmUnavailableError(SlurmError):
    """The SLURM client tools are missing or the controller cannot be reached."""

    exit_code = 3


class SubmitError(SlurmError):
    """sbatch, scontrol or scancel answered with an error about the job itself."""

    exit_code = 1
