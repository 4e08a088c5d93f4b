"""Server-side maximums and strict field checks shared by r1's two servers.

`r1-sandbox router` and `r1-cp-scoring piston-server` take jobs from clients they cannot
trust: a reward function one bug away from garbage, or anyone on the network. Each limit a
client may ask for has a maximum here, and a request above it is refused with a message
that names the field and the maximum (a silent clamp would grade a program under limits
its caller did not ask for). Kept apart from `router` so that the CLIs can build their
flags from `ServerLimits` without importing the HTTP stack (`--help` stays instant).

Data flow: a request body (JSON) -> the servers' parsers -> `ServerLimits.check_*` ->
`Job`s, or a `BadRequest` naming the field -> HTTP 400.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from r1_sandbox.errors import BackendConfigError


class BadRequest(Exception):
    """A request that breaks the protocol or a server maximum (answered with 400)."""


@dataclass(frozen=True)
class ServerLimits:
    """Server-side maximums: a request above any of them is refused with a 400.

    The defaults admit any contest-sized job (60 s, 4 GiB) and refuse the abusive ones
    (a CPU limit of 1e6 s, a 1 TiB address space), which a shared judge must never honour.
    """

    max_timeout_s: float = field(default=60.0, metadata={"help": "seconds per job (wall, CPU)"})
    max_memory_mb: int = field(default=4096, metadata={"help": "MB of memory per job"})
    max_batch: int = field(default=1024, metadata={"help": "jobs or scripts per request"})
    max_code_bytes: int = field(default=1 << 20, metadata={"help": "bytes of one source"})
    max_stdin_bytes: int = field(default=64 << 20, metadata={"help": "bytes of one stdin"})
    max_files: int = field(default=64, metadata={"help": "extra files per job"})
    max_file_bytes: int = field(default=64 << 20, metadata={"help": "bytes of one file"})
    max_body_mb: int = field(default=256, metadata={"help": "MB of one request body"})

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not value > 0:
                raise BackendConfigError(f"{f.name}={value!r}: must be > 0")

    def check_timeout(self, name: str, value: object) -> float:
        """`value` as seconds in (0, max_timeout_s], else BadRequest naming `name`."""
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise BadRequest(f"{name}={value!r}: must be a number of seconds")
        if not value > 0:
            raise BadRequest(f"{name}={value!r}: must be > 0 seconds")
        if value > self.max_timeout_s:
            raise BadRequest(
                f"{name}={value!r}: above this server's maximum {self.max_timeout_s:g}"
            )
        return float(value)

    def check_memory(self, name: str, value: object) -> int:
        """`value` as MB in [1, max_memory_mb] (an integer), else BadRequest naming `name`."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadRequest(f"{name}={value!r}: must be an integer number of MB")
        if value < 1:
            raise BadRequest(f"{name}={value!r}: must be >= 1 MB")
        if value > self.max_memory_mb:
            raise BadRequest(f"{name}={value!r}: above this server's maximum {self.max_memory_mb}")
        return value

    def check_text(self, name: str, value: object, maximum: int) -> str:
        """`value` as a string of at most `maximum` UTF-8 bytes."""
        if not isinstance(value, str):
            raise BadRequest(f"{name}: must be a string, got {type(value).__name__}")
        if len(value) > maximum or len(value.encode("utf-8", "surrogatepass")) > maximum:
            raise BadRequest(
                f"{name}: {len(value)} characters, above this server's maximum {maximum} bytes"
            )
        return value

    def check_batch(self, name: str, value: object) -> list[Any]:
        if not isinstance(value, list):
            raise BadRequest(f"{name}: must be a list")
        if len(value) > self.max_batch:
            raise BadRequest(
                f"{name}: {len(value)} items, above this server's maximum {self.max_batch}"
            )
        return value

    def check_files(self, name: str, value: object) -> dict[str, str]:
        if not isinstance(value, Mapping):
            raise BadRequest(f"{name}: must be an object {{name: content}}")
        if len(value) > self.max_files:
            raise BadRequest(
                f"{name}: {len(value)} files, above this server's maximum {self.max_files}"
            )
        out = {}
        for key, content in value.items():
            if not isinstance(key, str) or not key:
                raise BadRequest(f"{name}: file names must be non-empty strings")
            out[key] = self.check_text(f"{name}[{key!r}]", content, self.max_file_bytes)
        return out


def check_fields(where: str, body: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """BadRequest naming the first field of `body` that is not in `allowed`."""
    for key in body:
        if key not in allowed:
            raise BadRequest(f"{where}{key}: unknown field; allowed: {sorted(allowed)}")


def add_limit_flags(parser: argparse.ArgumentParser) -> None:
    """One `--max-...` flag per `ServerLimits` field (its help and default written once)."""
    group = parser.add_argument_group("server-side maximums (a request above one gets a 400)")
    for f in fields(ServerLimits):
        group.add_argument(
            "--" + f.name.replace("_", "-"),
            type=float if f.type in (float, "float") else int,
            default=f.default,
            help=f"{f.metadata['help']} (default {f.default})",
        )


def limits_from_args(args: argparse.Namespace) -> ServerLimits:
    """The `ServerLimits` given by `add_limit_flags`'s flags (BackendConfigError if bad)."""
    return ServerLimits(**{f.name: getattr(args, f.name) for f in fields(ServerLimits)})
