"""Locating ``../shared`` (corpus, seeds, eval) beside the repository.

Tests that read it skip with a clear reason on a user's clone without it, but fail under CI=true,
where it is always present.
"""
import os
from pathlib import Path

import pytest

SHARED_ENV = "GOVNEWS_SHARED"
DEFAULT_SHARED = Path(__file__).resolve().parents[3] / "shared"


def shared_path() -> Path:
    return Path(os.environ.get(SHARED_ENV) or DEFAULT_SHARED)


def require_shared() -> Path:
    """``../shared`` (seeds, corpus, eval); skip when absent, fail under CI=true."""
    path = shared_path()
    if (path / "corpus").is_dir() and (path / "seeds").is_dir():
        return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the shared test material is missing at {path}")
    pytest.skip(f"shared test material not found at {path} (set {SHARED_ENV}); tests reading it skipped")


@pytest.fixture
def shared_dir() -> Path:
    return require_shared()
