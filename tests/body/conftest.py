"""Fixtures for the body tests: a private cache folder (the proxy is generated there once),
no ANYLIFT_SMPL_MODEL from the environment, torch on one thread."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _body_env(isolated_engine):
    """Every test here: private cache (``body_cache``, tests/conftest.py), proxy body, one thread."""


@pytest.fixture(scope="session")
def proxy_data(body_cache):
    from anylift.body.proxy import build_proxy_model

    return build_proxy_model()


@pytest.fixture(scope="session")
def body(body_cache):
    from anylift.body import load_body_model

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANYLIFT_CACHE", str(body_cache))
        mp.delenv("ANYLIFT_SMPL_MODEL", raising=False)
        return load_body_model()
