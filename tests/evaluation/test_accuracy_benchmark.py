"""benchmarks/accuracy.py end to end on two tiny cases (untrained model: plumbing, not accuracy)."""

from __future__ import annotations

import json

import pytest

from tests.benchmark_modules import load_benchmark


def test_plan_alternates_orientations_and_level_two_reuses_the_quick_cases():
    bench = load_benchmark("accuracy")
    plan = bench.case_plan(["walk", "run"], ["orbit", "elevated"], 1)
    assert plan == [("walk", "orbit", 0), ("walk", "elevated", 1), ("run", "orbit", 1),
                    ("run", "elevated", 0)]  # fmt: skip
    assert bench.case_plan(["walk"], ["orbit"], 2) == [("walk", "orbit", 0), ("walk", "orbit", 1)]
    quick = bench.case_plan(list(bench.QUICK_CLIPS), ["orbit", "low_angle"], 1)
    assert bench.detected_plan(["walk", "jump", "kick", "cartwheel", "run"], ["orbit", "low_angle"],
                               list(bench.QUICK_CLIPS)) == quick  # fmt: skip


def test_harness_reports_per_family_and_clip_group(tmp_path, capsys, isolated_engine):
    bench = load_benchmark("accuracy")
    out = tmp_path / "acc.json"
    args = ["--untrained-tiny", "--clips", "run", "walk", "--families", "orbit", "--noise", "1",
            "--seeds", "1", "--steps", "2", "--out", str(out)]  # fmt: skip
    assert bench.main(args) == 0
    text = capsys.readouterr().out
    assert "NOT meaningful" in text
    assert "noise level 1, training motions" in text and "noise level 1, held-out motions" in text
    doc = json.loads(out.read_text())
    assert {(r["clip"], r["group"], r["method"]) for r in doc["cases"]} == {
        ("run", "held-out motions", "anylift"), ("run", "held-out motions", "smplify"),
        ("walk", "training motions", "anylift"), ("walk", "training motions", "smplify"),
    }  # fmt: skip
    held = doc["summary"]["1"]["held-out motions"]["orbit"]["smplify"]
    run = next(r for r in doc["cases"] if r["clip"] == "run" and r["method"] == "smplify")
    assert held["root_abs_mm"] == pytest.approx(run["metrics"]["root_abs_mm"])
    assert run["metrics"]["root_abs_mm"] >= 0 and run["metrics"]["t_root_mm"] >= 0
    assert bench.main(["--summarize", str(out)]) == 0
    assert "held-out motions" in capsys.readouterr().out
