"""benchmarks/camera_families.py: the independent camera designs and the cases built on them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anylift.data import mocap
from anylift.errors import InputError
from anylift.fitting.smpl_fit import SmplFitConfig
from anylift.geometry.camera import project
from tests.benchmark_modules import load_benchmark

FAST_FIT = SmplFitConfig(stage1_iterations=5, stage2_iterations=20)


cf = load_benchmark("camera_families")


@pytest.fixture(scope="module")
def clips():
    return {c: mocap.load_clip(c, allow_heldout=True).keypoints3d for c in ("walk", "run", "crawl", "spin")}


def _in_view(keypoints3d, camera):
    uv, z = project(keypoints3d, camera.K, camera.world_to_camera, return_depth=True)
    w, h = camera.image_size
    return ((z > 0) & (uv[..., 0] >= 0) & (uv[..., 0] < w) & (uv[..., 1] >= 0) & (uv[..., 1] < h)).mean()


def _centres(camera):
    c2w = camera.camera_to_world()
    return c2w[:, :3, 3], c2w[:, :3, 2]  # positions, viewing directions


@pytest.mark.parametrize("family", cf.FAMILIES)
def test_every_family_frames_the_person_within_the_stated_ranges(family, clips):
    heights = []
    for clip, kp in clips.items():
        for seed in range(3):
            camera, design = cf.build_family_camera(family, seed, kp, 30.0)
            assert camera.num_frames == len(kp)
            assert camera.image_size == (cf.LANDSCAPE if seed % 2 == 0 else cf.PORTRAIT)
            lens = {"telephoto": (150.0, 600.0), "close_wide": (14.0, 20.0)}.get(family, cf.FOCAL_MM)
            assert lens[0] - 1e-9 <= design.focal_mm <= lens[1] + 1e-9
            np.testing.assert_allclose(camera.K[0, 0], cf.focal_pixels(design.focal_mm, camera.image_size))
            assert _in_view(kp, camera) >= 0.9, (clip, seed)
            eye, _ = _centres(camera)
            # Never inside the person: at least 1.5 m from the pelvis at every frame.
            hips = kp[:, [11, 12]].mean(axis=1)
            assert np.linalg.norm(eye - hips, axis=-1).min() > 1.5, (clip, seed)
            heights.append(design.height_m)
    low, high = {
        "elevated": (3.5, 8.0), "low_angle": (0.3, 0.6), "surveillance": (3.0, 10.0), "top_down": (6.0, 15.0),
        "telephoto": (1.5, 10.0), "close_wide": (0.8, 1.6),
    }.get(family, (0.9, 2.5))  # fmt: skip
    assert low - 0.05 <= min(heights) and max(heights) <= high + 0.05


def test_each_family_moves_as_designed(clips):
    kp = clips["walk"]
    hips = kp[:, [11, 12]].mean(axis=1)
    cams = {f: cf.build_family_camera(f, 0, kp, 30.0)[0] for f in cf.FAMILIES}
    eye = {f: _centres(c)[0] for f, c in cams.items()}
    look = {f: _centres(c)[1] for f, c in cams.items()}
    # Locked-off: nothing moves. Panning tripod and low angle: fixed position, turning aim.
    assert np.ptp(cams["tripod_locked"].world_to_camera, axis=0).max() < 1e-9
    for f in ("tripod_pan", "low_angle"):
        assert np.ptp(eye[f], axis=0).max() < 1e-9
        assert math.degrees(math.acos(np.clip(look[f][0] @ look[f][-1], -1, 1))) > 3.0
    # Orbit: turns around the person at 15-45 deg/s.
    rel = eye["orbit"][:, :2] - hips[:, :2]
    angle = np.unwrap(np.arctan2(rel[:, 1], rel[:, 0]))
    speed = abs(angle[-1] - angle[0]) / ((len(kp) - 1) / 30.0)
    assert 10 < math.degrees(speed) < 50
    # Follow with lag: travels with the person but behind in time.
    travel = np.linalg.norm(eye["follow_lag"][-1, :2] - eye["follow_lag"][0, :2])
    person = np.linalg.norm(hips[-1, :2] - hips[0, :2])
    assert 0.2 * person < travel < person
    # Handheld: bobs (vertical motion of centimetres) and rolls.
    assert 0.01 < np.ptp(eye["handheld_walk"][:, 2]) < 0.15
    # Elevated looks down 20+ degrees; low angle looks up.
    assert math.degrees(math.asin(-look["elevated"][0, 2])) > 20
    assert look["low_angle"][0, 2] > 0
    # Surveillance: locked off, the person small and well off the image centre.
    cam = cams["surveillance"]
    assert np.ptp(cam.world_to_camera, axis=0).max() < 1e-9
    uv = project(kp, cam.K, cam.world_to_camera)
    w, h = cam.image_size
    size = np.ptp(uv[..., 1], axis=1).mean()
    assert size < 0.3 * h
    assert abs(uv[:, [11, 12], 0].mean() - w / 2) > 0.15 * w
    # Top-down: looks down 65+ degrees. Telephoto: far (30+ m). Dutch: the horizon rolled 10+ degrees.
    assert math.degrees(math.asin(-look["top_down"][0, 2])) > 65
    assert np.linalg.norm(eye["telephoto"] - hips, axis=-1).min() > 30
    right = cams["dutch"].camera_to_world()[:, :3, 0]  # the image's x axis in the world
    assert np.degrees(np.arcsin(np.abs(right[:, 2]))).min() > 9


def test_designs_are_seeded_and_differ_between_seeds(clips):
    kp = clips["spin"]
    a, da = cf.build_family_camera("orbit", 4, kp, 30.0)
    b, db = cf.build_family_camera("orbit", 4, kp, 30.0)
    c, _ = cf.build_family_camera("orbit", 6, kp, 30.0)
    np.testing.assert_array_equal(a.world_to_camera, b.world_to_camera)
    assert da == db
    assert np.abs(a.world_to_camera - c.world_to_camera).max() > 0.1
    with pytest.raises(InputError, match="unknown camera family 'dolly'"):
        cf.build_family_camera("dolly", 0, kp, 30.0)


def test_family_case_is_make_case_with_the_family_camera():
    case = cf.family_case("run", "handheld_walk", 1, fit_config=FAST_FIT)
    camera, design = cf.build_family_camera("handheld_walk", 1, case.truth.keypoints3d, 30.0)
    assert case.name == "run/handheld_walk/1" and case.trajectory == design
    np.testing.assert_array_equal(case.camera.world_to_camera, camera.world_to_camera)
    np.testing.assert_array_equal(case.truth.world_to_camera, camera.world_to_camera)
    assert case.keypoints.image_size == cf.PORTRAIT
    uv = project(case.truth.keypoints3d, camera.K, camera.world_to_camera)
    np.testing.assert_allclose(case.clean_keypoints, uv, atol=1e-6)
    # Noise level 1: the standard corruption (3 px, outliers, 5% dropped) is applied.
    seen = ~case.dropped
    err = np.linalg.norm(case.keypoints.keypoints[..., :2] - uv, axis=-1)[seen & ~case.outliers]
    assert 1.5 < err.mean() < 6.0
    assert case.dropped.mean() >= 0.05


def test_noise_level_two_uses_the_cached_detections(tmp_path, monkeypatch):
    detected_2d = load_benchmark("detected_2d")
    monkeypatch.setattr(detected_2d, "CACHE", tmp_path)
    case = cf.family_case("run", "orbit", 0, fit_config=FAST_FIT)
    t = case.num_frames
    detections = case.clean_keypoints + 7.0  # a detector 7 px off, missing the wrists
    scores = np.full((t, 17), 0.9)
    scores[:, [9, 10]] = 0.0
    kp = np.concatenate([detections, scores[..., None]], axis=-1)
    kp[scores == 0, :2] = np.nan
    path = detected_2d.cache_path("run", "orbit", 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, keypoints=kp)
    level2 = detected_2d.with_detected_keypoints(case, "orbit", 0)
    assert level2.name == "run/orbit/0/detected"
    np.testing.assert_array_equal(level2.keypoints.keypoints, kp)
    np.testing.assert_array_equal(level2.dropped, scores == 0)
    assert level2.truth is case.truth and level2.camera is case.camera
    # A detector that found the person in too few frames: no case.
    kp[: t * 3 // 4, :, 2] = 0.0
    kp[: t * 3 // 4, :, :2] = np.nan
    np.savez(path, keypoints=kp)
    assert detected_2d.with_detected_keypoints(case, "orbit", 0) is None
