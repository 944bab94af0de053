"""web-poet's fixture rule for extraction tests: the WHOLE output is compared with a stored JSON file.

:func:`check_output` compares every field (nested dicts such as ``flags`` and lists such as ``images``
included) and fails on a changed value, a missing field and an unexpected field alike, naming each one
by its path (``flags.container``, ``images[0].url``).

The stored files are regenerated only on request, never silently::

    GOVNEWS_UPDATE_FIXTURES=1 .venv/bin/pytest tests/test_extract_fixtures.py tests/test_extract_demosite.py

rewrites each file whose content differs (the test then reports itself skipped, naming the file, so the
change is reviewed with ``git diff``); an unchanged file is left alone and its test passes. Under
``CI=true`` the flag is refused.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

UPDATE_ENV = "GOVNEWS_UPDATE_FIXTURES"


def normalise(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples -> lists, datetimes -> ISO strings via ``str``)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def differences(expected: Any, got: Any, path: str = "") -> list[str]:
    """Every difference between two JSON values, one line each, named by path."""
    where = path or "<root>"
    if isinstance(expected, dict) and isinstance(got, dict):
        out: list[str] = []
        for key in sorted(expected.keys() | got.keys()):
            if key not in got:
                out.append(f"missing field {_join(path, key)} (expected {expected[key]!r})")
            elif key not in expected:
                out.append(f"unexpected field {_join(path, key)} = {got[key]!r}")
            else:
                out += differences(expected[key], got[key], _join(path, key))
        return out
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            return [f"{where}: {len(got)} items, expected {len(expected)}: {got!r} != {expected!r}"]
        return [d for i, (e, g) in enumerate(zip(expected, got, strict=True)) for d in differences(e, g, f"{path}[{i}]")]
    if type(expected) is not type(got) or expected != got:
        return [f"{where}: got {got!r}, expected {expected!r}"]
    return []


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def updating() -> bool:
    return os.environ.get(UPDATE_ENV, "") not in ("", "0")


def check_output(path: Path, got: Any) -> None:
    """Assert ``got`` (JSON-serialisable) equals the JSON stored at ``path``, field by field."""
    got = normalise(got)
    text = json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if updating():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{UPDATE_ENV} is not honoured under CI=true")
        if not path.exists() or json.loads(path.read_text(encoding="utf-8")) != got:
            path.write_text(text, encoding="utf-8")
            pytest.skip(f"{path.name} regenerated ({UPDATE_ENV}): review it with git diff")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing: generate it with {UPDATE_ENV}=1, review and commit it")
    diffs = differences(json.loads(path.read_text(encoding="utf-8")), got)
    assert not diffs, f"{path.name} ({len(diffs)} differences; {UPDATE_ENV}=1 regenerates):\n" + "\n".join(diffs)
