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


def test_option_values_are_typed_and_a_bad_item_names_the_form():
    bench = load_benchmark("accuracy")
    got = bench.parse_options(["bone_lengths=true", "samples=4", "seed=-2", "x=0.5", "placement=prior"])
    assert got == {"bone_lengths": True, "samples": 4, "seed": -2, "x": 0.5, "placement": "prior"}
    assert type(got["samples"]) is int
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        bench.parse_options(["bone_lengths"])


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


def test_level_three_is_a_worse_detector_and_fps_resamples_the_case(capsys):
    bench = load_benchmark("accuracy")
    light = bench.build_case("walk", "orbit", 0, 1)
    heavy = bench.build_case("walk", "orbit", 0, 3, fps=12.0)
    assert light.keypoints.fps == 30.0 and heavy.keypoints.fps == 12.0
    assert heavy.num_frames == pytest.approx(light.num_frames * 12 / 30, abs=1)
    assert (heavy.noise_px, heavy.outlier_rate) == (6.0, 0.05) > (light.noise_px, light.outlier_rate)
    assert heavy.dropped.mean() == pytest.approx(0.15, abs=0.03) and light.dropped.mean() < 0.1
    with pytest.raises(ValueError, match="30 fps"):
        bench.build_case("walk", "orbit", 0, 2, fps=12.0)
    with pytest.raises(SystemExit):
        bench.main(["--noise", "2", "--fps", "12", "--untrained-tiny"])
    assert "--fps goes with --noise 1 or 3" in capsys.readouterr().err


def test_targets_pool_the_noise_levels_and_name_every_family_over_the_baseline():
    bench = load_benchmark("accuracy")

    def cell(a, s):
        return {"anylift": {"mpjpe_mm": a}, "smplify": {"mpjpe_mm": s}}

    summaries = {
        "1": {"training motions": {"orbit": cell(50.0, 100.0), "all": cell(50.0, 100.0)},
              "held-out motions": {"orbit": cell(90.0, 100.0), "all": cell(90.0, 100.0)}},
        "2": {"training motions": {"orbit": cell(130.0, 120.0), "all": cell(130.0, 200.0)}},
        "all": {"training motions": {"orbit": cell(90.0, 150.0), "all": cell(90.0, 150.0)},
                "held-out motions": {"orbit": cell(90.0, 100.0), "all": cell(90.0, 100.0)}},
    }  # fmt: skip
    text = bench.target_lines(summaries)
    assert "- training motions: overall 0.60x (met; noise 1 0.50x, noise 2 0.65x)" in text
    assert "families over SMPLify: noise 2 orbit 1.08x" in text
    held = "- held-out motions: overall 0.90x (missed by 0.20; noise 1 0.90x); families over SMPLify: none"
    assert held in text
    alone = {"1": {"training motions": {"all": {"anylift": {"mpjpe_mm": 50.0}}}}}
    assert "both methods needed" in bench.target_lines(alone)
