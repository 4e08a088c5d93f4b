"""Test doubles shared by r1's test suites; development only, never a runtime dependency.

One copy of each double, so that two packages' tests cannot drift into two fakes of the
same service. Only the standard library and pytest are imported: a light package's
standalone test venv can install this too.

Data flow: a package's conftest imports a fixture from here -> its tests talk to the
double over 127.0.0.1 with the real client libraries -> assertions on the double's state.
"""

from r1_test_support.fake_hub import (
    FakeHub,
    FakeRepo,
    fake_hub,
    point_hub_clients_at,
    serve_fake_hub,
)

__version__ = "0.1.0"

__all__ = [
    # The fake Hugging Face Hub
    "FakeHub",
    "FakeRepo",
    "fake_hub",
    "point_hub_clients_at",
    "serve_fake_hub",
]
