"""Fixtures shared by several test folders."""

from __future__ import annotations

import pytest
import torch


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
