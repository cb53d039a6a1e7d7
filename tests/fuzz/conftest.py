"""Hypothesis profiles for the reader fuzz tests.

- ``ci`` (default): 200 examples per test, a few seconds each.
- ``long``: 2,000 examples per test (about 30,000 reader calls in all), for a soak run:
  ``pytest tests/fuzz --hypothesis-profile=long`` or ``ANYLIFT_FUZZ_PROFILE=long``.
"""

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    derandomize=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    print_blob=True,
)
settings.register_profile("ci", max_examples=200, **_COMMON)
settings.register_profile("long", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("ANYLIFT_FUZZ_PROFILE", "ci"))
