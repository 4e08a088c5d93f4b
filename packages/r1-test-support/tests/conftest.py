"""The shared fixtures, registered as a user's conftest registers them."""

from r1_test_support import fake_hub  # noqa: F401  (imported to register the fixture)
