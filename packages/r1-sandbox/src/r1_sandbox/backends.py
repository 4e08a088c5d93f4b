"""Choosing a backend by name: the one place that maps "local", "piston", ... to a class.

Rewards, the CLI and the router take a backend name from a config; an explicit dict
rejects unknown names with the list of valid ones (as r1-rewards' registry does), and
the hosted backends' modules are imported only when chosen, so `import r1_sandbox`
never pulls an SDK.

Data flow: a name and keyword options (from a config or flags) -> a `Sandbox`.
"""

from __future__ import annotations

import importlib
from typing import Any

from r1_sandbox.base import Sandbox
from r1_sandbox.errors import BackendConfigError

#: backend name -> (module, class)
BACKENDS: dict[str, tuple[str, str]] = {
    "local": ("r1_sandbox.local", "LocalSandbox"),
    "piston": ("r1_sandbox.piston", "PistonSandbox"),
    "e2b": ("r1_sandbox.e2b", "E2BSandbox"),
    "morph": ("r1_sandbox.morph", "MorphSandbox"),
    "routed": ("r1_sandbox.routed", "RoutedSandbox"),
}


def get_sandbox(name: str = "local", **options: Any) -> Sandbox:
    """A backend built from its name and options.

    >>> get_sandbox("docker")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    r1_sandbox.errors.BackendConfigError: backend='docker' is unknown; use one of [...]
    """
    try:
        module, cls = BACKENDS[name]
    except KeyError:
        raise BackendConfigError(
            f"backend={name!r} is unknown; use one of {sorted(BACKENDS)}"
        ) from None
    backend: Sandbox = getattr(importlib.import_module(module), cls)(**options)
    return backend
