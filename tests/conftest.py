"""Fixtures shared by several test folders."""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import HealthCheck, settings

# Hypothesis profiles (the reader fuzz tests in tests/fuzz): "ci", the default, 200 examples per
# test; "long", 2,000 per test (about 40,000 reader calls), for a soak run:
# `pytest tests/fuzz --hypothesis-profile=long` or ANYLIFT_FUZZ_PROFILE=long. Registered here, in
# the first conftest pytest loads, so --hypothesis-profile finds them.
_FUZZ = dict(
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
settings.register_profile("ci", max_examples=200, **_FUZZ)
settings.register_profile("long", max_examples=2000, **_FUZZ)
settings.load_profile(os.environ.get("ANYLIFT_FUZZ_PROFILE", "ci"))


@pytest.fixture(scope="session")
def body_cache(tmp_path_factory):
    """A private ``$ANYLIFT_CACHE`` for the session (the proxy body is generated there once)."""
    path = tmp_path_factory.mktemp("anylift_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANYLIFT_CACHE", str(path))
        yield path


@pytest.fixture
def isolated_engine(body_cache, monkeypatch):
    """The private cache, the proxy body (no official model from the environment), one torch thread."""
    monkeypatch.setenv("ANYLIFT_CACHE", str(body_cache))
    monkeypatch.delenv("ANYLIFT_SMPL_MODEL", raising=False)
    torch.set_num_threads(1)
