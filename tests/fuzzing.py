"""Hypothesis settings for every fuzz test, chosen by NETPLAN_FUZZ.

- `ci` (the default, `make test`): derandomized, so every run tries the same inputs and a
  failure reproduces by running the test again; no example database on disk; no deadline
  (the machine is shared: time is not what is tested).
- `long` (`make fuzz`): random inputs, 20 times as many of each test, the database kept in
  .hypothesis/ so that a failure found once is tried first on the next run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILES = {"ci": 1, "long": 20}
"""Profile → how many times each test's own number of examples is tried."""
PROFILE = os.environ.get("NETPLAN_FUZZ", "ci")
if PROFILE not in PROFILES:
    raise ValueError(f"NETPLAN_FUZZ={PROFILE!r}: expected one of {', '.join(PROFILES)}")

_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, suppress_health_check=_QUIET
)
settings.register_profile("long", deadline=None, suppress_health_check=_QUIET)


def fuzz(examples: int, long: int | None = None) -> settings:
    """The profile's settings with `examples` inputs per test (times the profile's factor),
    or `long` inputs in the long profile when given (for tests that cost seconds each)."""
    count = long if long is not None and PROFILE == "long" else examples * PROFILES[PROFILE]
    return settings(settings.get_profile(PROFILE), max_examples=count)
