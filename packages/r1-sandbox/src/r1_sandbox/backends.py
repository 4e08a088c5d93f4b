"""Choosing a backend by name: the one place that maps "local", "piston", ... to a class.

Rewards, the CLI and the router take a backend name from a config; an explicit dict
rejects unknown names with the list of valid ones (as r1-rewards' registry does), and
the hosted backends' modules are imported only when chosen, so `import r1_sandbox`
never pulls an SDK.

`shared_sandbox` is the process-wide registry on top: one backend object per
configuration (name + options), built on first use and closed at exit. The code rewards
of r1-rewards and the IOI and Codeforces graders of r1-cp-scoring all take their sandbox
from it, so one configuration means one object and one concurrency bound
(`parallel_code_exec_per_proc` becomes its `concurrency`) over all of them, instead of
one pool per caller that each thinks it owns the machine.

Data flow: a name and keyword options (from a config or flags) -> a `Sandbox` (new from
`get_sandbox`, or the process's one from `shared_sandbox`).
"""

from __future__ import annotations

import atexit
import importlib
import threading
from collections.abc import Mapping, Sequence
from typing import Any, cast

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


_SHARED: dict[tuple[Any, ...], Sandbox] = {}
_SHARED_LOCK = threading.Lock()


def _freeze(value: Any) -> Any:
    """A hashable stand-in for an option value (lists, dicts), for the registry's key."""
    if isinstance(value, Mapping):
        mapping = cast("Mapping[Any, Any]", value)
        return tuple(sorted((str(k), _freeze(v)) for k, v in mapping.items()))
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return tuple(_freeze(v) for v in cast("Sequence[Any]", value))
    return value


def shared_sandbox(name: str = "local", **options: Any) -> Sandbox:
    """The process's one backend for this configuration, built on first use.

    Options that are None are left out of the key (and out of the backend's arguments),
    so `shared_sandbox("local", concurrency=None)` and `shared_sandbox("local")` are one.
    """
    options = {k: v for k, v in options.items() if v is not None}
    key = (name, _freeze(options))
    with _SHARED_LOCK:
        box = _SHARED.get(key)
        if box is None:
            box = _SHARED[key] = get_sandbox(name, **options)
            atexit.register(box.close)  # its spare sandboxes, sessions and scratch root
        return box
