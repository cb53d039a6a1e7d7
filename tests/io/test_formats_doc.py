"""docs/formats.md is in the repository, every reference points there, and it states the code's limits."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from anylift.io import fields
from anylift.io.motion import OPTIONAL_KEYS, REQUIRED_KEYS
from anylift.lifting import checks

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")


def test_no_reference_to_a_spec_outside_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    offenders = []
    for name in tracked.split():
        if name.endswith((".py", ".md", ".toml")) and "shared/formats.md" in (ROOT / name).read_text(
            errors="ignore"
        ):
            offenders.append(name)
    offenders = [n for n in offenders if n != "tests/io/test_formats_doc.py"]
    assert offenders == []


def test_motion_table_lists_every_key_written():
    table = set(re.findall(r"^\| `(\w+)` \|", DOC, flags=re.M))
    assert set(REQUIRED_KEYS) | set(OPTIONAL_KEYS) <= table


def test_limits_in_the_doc_are_the_code_s():
    def number(value: float) -> str:
        return f"{value:,.0f}"

    for value in (fields.MAX_FRAMES, fields.MAX_IMAGE_SIDE, fields.MAX_PIXEL_COORD, fields.MAX_FOCAL_PIXELS,
                  fields.MAX_TRANSLATION):  # fmt: skip
        assert number(value) in DOC, value
    assert f"{fields.MAX_NPZ_BYTES >> 30} GiB" in DOC and f"{fields.MAX_JSON_BYTES >> 30} GiB" in DOC
    assert f"outside {checks.MIN_FPS:g} to {checks.MAX_FPS:g} fps" in DOC
    assert f"fewer than {checks.MIN_BODY_PIXELS:g} pixels" in DOC
