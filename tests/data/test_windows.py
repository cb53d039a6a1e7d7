"""Training data builders: augmentation, single-view hybrid windows, multi-view windows and files."""

import itertools
import math

import numpy as np
import pytest

from anylift import representation as rep
from anylift.data.augment import (
    BONE_GROUPS,
    body_shape,
    change_speed,
    heading,
    hip_mid,
    loop_sequence,
    mirror,
    rotate_yaw,
)
from anylift.data.mocap import load_clip
from anylift.data.multiview import (
    MultiViewConfig,
    MultiViewDataset,
    MultiViewWindows,
    model_points,
    multiview_cameras,
    multiview_window,
    read_multiview_dataset,
    ring_centre,
    world_down,
    write_multiview_dataset,
)
from anylift.data.windows import (
    SWAPPED_ARMS,
    SWAPPED_LEGS,
    MotionBank,
    SingleViewWindows,
    WindowConfig,
    detector_errors,
    video_like_camera,
)
from anylift.errors import InputError
from anylift.geometry.camera import project, relative_to_first, to_camera
from anylift.geometry.epipolar import point_line_distance
from anylift.geometry.triangulation import projection_matrices, triangulate

CLIPS = ("walk", "jump")


@pytest.fixture(scope="module")
def bank():
    return MotionBank(CLIPS)


@pytest.mark.parametrize("clips", [("walk", "run"), ("cartwheel",), ("no_such_clip",)])
def test_heldout_and_unknown_clips_are_refused(clips):
    with pytest.raises(InputError, match="cannot be used for training"):
        MotionBank(clips)
    with pytest.raises(InputError):
        SingleViewWindows(WindowConfig(clips=clips))
    with pytest.raises(InputError):
        MultiViewWindows(MultiViewConfig(windows=WindowConfig(clips=clips)))


def test_wrap_loop_is_seamless_and_keeps_walking():
    clip = load_clip("walk")
    seq = loop_sequence(clip.keypoints3d, 200, "wrap", np.random.default_rng(0))
    steps = np.linalg.norm(np.diff(seq, axis=0), axis=-1).max(axis=1)
    # A jump back to the start would move every joint by ~1.2 m (one cycle's displacement).
    assert steps.max() < 2.0 * np.median(steps) < 0.3
    travelled = np.linalg.norm(hip_mid(seq)[-1, :2] - hip_mid(seq)[0, :2])
    assert travelled > 5.0  # 200 frames at ~0.95 m/s (1.24 m per 1.27 s cycle)


def test_non_wrap_clip_is_held_before_and_after():
    clip = load_clip("kick")
    seq = loop_sequence(clip.keypoints3d, 80, "none", np.random.default_rng(1))
    assert seq.shape == (80, 17, 3)
    kinds = [any(np.allclose(f, c) for c in clip.keypoints3d) for f in seq]
    assert all(kinds)  # every frame is a frame of the clip (held at the ends)


def test_speed_mirror_yaw_shape():
    kp = load_clip("walk").keypoints3d
    fast = change_speed(kp, 2.0)
    assert fast.shape[0] == (kp.shape[0] - 1) // 2 + 1
    np.testing.assert_allclose(fast[3], kp[6])
    slow = change_speed(kp, 0.5)
    np.testing.assert_allclose(slow[1], 0.5 * (kp[0] + kp[1]))

    m = mirror(kp)
    np.testing.assert_allclose(mirror(m), kp)
    np.testing.assert_allclose(m[:, 11, 1], -kp[:, 12, 1])  # left hip <- mirrored right hip
    np.testing.assert_allclose(m[:, 11, [0, 2]], kp[:, 12, [0, 2]])

    turned = rotate_yaw(kp, math.pi / 2)
    delta = np.angle(np.exp(1j * (heading(turned) - heading(kp))))
    np.testing.assert_allclose(delta, math.pi / 2, atol=1e-9)

    ones = {g: np.ones(2) for g in BONE_GROUPS}
    np.testing.assert_allclose(body_shape(kp, 1.0, ones), kp, atol=1e-12)
    longer = body_shape(kp, 1.0, {**ones, "thigh": np.array([1.2, 1.0])})
    thigh = lambda x, a, b: np.linalg.norm(x[:, a] - x[:, b], axis=-1)  # noqa: E731
    np.testing.assert_allclose(thigh(longer, 13, 11), 1.2 * thigh(kp, 13, 11))  # left thigh
    np.testing.assert_allclose(thigh(longer, 14, 12), thigh(kp, 14, 12))  # right thigh unchanged
    np.testing.assert_allclose(thigh(longer, 15, 13), thigh(kp, 15, 13))  # shin unchanged
    big = body_shape(kp, 1.1, ones)
    np.testing.assert_allclose(thigh(big, 15, 13), 1.1 * thigh(kp, 15, 13))
    assert big[..., 2].min() == pytest.approx(kp[..., 2].min())  # feet stay on the floor


def test_single_view_batches_are_seeded_hybrid_and_consistent(bank):
    cfg = WindowConfig(window=20, clips=CLIPS, line_drop=0.0)
    win = SingleViewWindows(cfg, seed=3, bank=bank)
    a, b = win.batch(5, 0, 6), win.batch(5, 0, 6)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.allclose(a["x0"], win.batch(5, 1, 6)["x0"])  # other rank, other data
    assert not np.allclose(a["x0"], win.batch(6, 0, 6)["x0"])
    local = a["local_only"]
    assert local.tolist() == [True, True, False, False, False, False]  # 2 : 1
    assert np.all(a["camera"][local] == 0) and np.all(a["lines"][local] == 0)
    # Local windows are root-centred: the hip midpoint is at the origin in every frame.
    hips = a["x0"][local][:, :, list(rep.HIPS)].mean(axis=2)
    np.testing.assert_allclose(hips, 0.0, atol=1e-5)
    # Video-like: the lines pass through the keypoints they were drawn through.
    glob = rep.from_root_local(a["x0"][~local].astype(np.float64))
    dist = point_line_distance(glob, a["lines"][~local].astype(np.float64))
    assert np.abs(dist[a["mask"][~local] > 0]).max() < 1e-4
    assert np.all(np.abs(a["camera"][~local][:, 0, :12] - np.eye(3, 4).ravel()) < 1e-5)  # frame 0 identity
    assert 0.85 < a["mask"].mean() < 1.0  # ~5% dropped
    val = win.validation(6)
    assert not np.allclose(val["x0"], a["x0"])


def test_video_like_cameras_are_mostly_frontal(bank):
    cfg = WindowConfig(window=20, clips=CLIPS, frontal_azimuth_deg=30.0)
    rng = np.random.default_rng(0)
    for _ in range(8):
        motion = bank.window(rng, 20, cfg.augment)
        cam = video_like_camera(motion, rng, cfg)
        centre = -cam.world_to_camera[0, :3, :3].T @ cam.world_to_camera[0, :3, 3]
        to_cam = centre - hip_mid(motion)[0]
        facing = float(np.angle(np.mean(np.exp(1j * heading(motion)))))
        off = np.angle(np.exp(1j * (math.atan2(to_cam[1], to_cam[0]) - facing)))
        assert abs(off) < math.radians(50)  # 30 degrees + tracking lag and shake


def _static_scene(num_frames=12):
    kp = load_clip("walk").keypoints3d[:num_frames]
    cam_pos = np.array([0.5, -4.0, 1.2])
    from anylift.data.trajectories import intrinsics, look_at

    w2c = np.tile(look_at(cam_pos, hip_mid(kp).mean(0)), (num_frames, 1, 1))
    return kp, intrinsics((1280, 720), 900.0), w2c


def test_multiview_cameras_match_the_representation_ring():
    kp, K, w2c = _static_scene()
    nk = rep.normalise_keypoints(project(kp, K, w2c), K)
    rel = relative_to_first(w2c)
    cams = multiview_cameras(rel, nk.points, nk.normalisation.scale, 4)
    root = 0.5 * (nk.points[:, 11] + nk.points[:, 12]).mean(0)
    ring = rep.ring_cameras(rep.subject_centre(root, nk.normalisation.scale), 4)
    np.testing.assert_allclose(cams[0], rel)
    for v in range(1, 4):
        np.testing.assert_allclose(cams[v], np.broadcast_to(ring[v], rel.shape), atol=1e-9)
    # With the world's down the ring is horizontal in the world and 90 degrees apart.
    down = world_down(w2c[0])
    cams = multiview_cameras(rel, nk.points, nk.normalisation.scale, 4, down=down)
    centres = np.stack([-c[0, :3, :3].T @ c[0, :3, 3] for c in cams])  # frame-0 camera coordinates
    world = (np.linalg.inv(w2c[0]) @ np.c_[centres, np.ones(4)].T).T[:, :3]
    assert np.ptp(world[:, 2]) < 1e-9  # all at the input camera's height
    mid = world.mean(0)
    angles = np.degrees(np.arctan2(world[:, 1] - mid[1], world[:, 0] - mid[0]))
    gaps = np.mod(np.diff(np.r_[angles, angles[0]]), 360.0)
    gaps = np.minimum(gaps, 360.0 - gaps)  # either direction round the ring
    np.testing.assert_allclose(gaps, 90.0, atol=1e-6)


def _looking_down(elevation_deg, azimuth_deg=-73.0, num_frames=30, distance=6.0):
    """A training clip seen by a static camera from above (``elevation_deg``), on a circle round it."""
    from anylift.data.trajectories import intrinsics, look_at

    kp = load_clip("walk").keypoints3d[:num_frames]
    target = hip_mid(kp).mean(0)
    e, a = math.radians(elevation_deg), math.radians(azimuth_deg)
    pos = target + distance * np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
    w2c = np.tile(look_at(pos, target), (len(kp), 1, 1))
    return kp, intrinsics((1280, 720), 900.0), w2c


@pytest.mark.parametrize("elevation", [5.0, 45.0, 75.0, 85.0])
def test_limbs_place_the_ring_at_the_subject_from_any_elevation(elevation):
    for azimuth in range(0, 360, 45):  # the walker seen from every side
        kp, K, w2c = _looking_down(elevation, azimuth)
        nk = rep.normalise_keypoints(project(kp, K, w2c), K)
        s, rel = nk.normalisation.scale, relative_to_first(w2c)
        true_depth = to_camera(hip_mid(kp)[:, None], w2c)[:, 0, 2].mean()
        limbs = ring_centre(rel, nk.points, s, mask=nk.mask, depth="limbs")
        bbox = ring_centre(rel, nk.points, s)
        assert abs(limbs[2] / true_depth - 1.0) < 0.15
        if elevation >= 45.0:  # the image-size guess puts a body seen from above too far
            assert bbox[2] / true_depth > 1.2
        # The centre lies on the hips' mean ray whichever depth is taken.
        np.testing.assert_allclose(limbs[:2] / limbs[2], bbox[:2] / bbox[2], atol=1e-9)
    # Limbs in the world's units (body_size) scale the depth with them.
    half = ring_centre(rel, nk.points, s, mask=nk.mask, depth="limbs", body_size=0.75)
    np.testing.assert_allclose(half, 0.5 * limbs, rtol=1e-9)


def test_limbs_ring_ignores_hidden_limbs_and_falls_back_without_any():
    kp, K, w2c = _looking_down(60.0)
    nk = rep.normalise_keypoints(project(kp, K, w2c), K)
    s, rel = nk.normalisation.scale, relative_to_first(w2c)
    seen = ring_centre(rel, nk.points, s, mask=nk.mask, depth="limbs")
    # One wrist pulled far out but masked as unseen: the ring does not move.
    points = nk.points.copy()
    points[:, 9] += 3.0
    mask = nk.mask.copy()
    mask[:, 9] = False
    np.testing.assert_allclose(ring_centre(rel, points, s, mask=mask, depth="limbs"), seen, rtol=1e-9)
    # A misplaced joint in a third of the frames, seen: the median over frames keeps the ring.
    points = nk.points.copy()
    points[::3, 9] += 3.0
    np.testing.assert_allclose(ring_centre(rel, points, s, mask=nk.mask, depth="limbs"), seen, rtol=0.02)
    # No limb seen at all: the image-size guess.
    none = np.zeros_like(nk.mask)
    none[:, [11, 12]] = True
    np.testing.assert_allclose(
        ring_centre(rel, nk.points, s, mask=none, depth="limbs"), ring_centre(rel, nk.points, s)
    )
    with pytest.raises(ValueError, match="ring depth"):
        ring_centre(rel, nk.points, s, depth="box")
    with pytest.raises(ValueError, match="ring"):
        multiview_cameras(rel, nk.points, s, 4, ring="box")
    with pytest.raises(InputError, match="unknown ring"):
        MultiViewConfig.from_dict({"ring": "box"})


@pytest.mark.parametrize("elevation", [30.0, 75.0, 85.0])
def test_tilted_ring_keeps_its_views_apart_from_a_camera_looking_down(elevation):
    kp, K, w2c = _looking_down(elevation)
    nk = rep.normalise_keypoints(project(kp, K, w2c), K)
    s, rel, down = nk.normalisation.scale, relative_to_first(w2c), world_down(w2c[0])
    centre = ring_centre(rel, nk.points, s, mask=nk.mask, depth="limbs")

    def angles(ring):
        cams = multiview_cameras(rel, nk.points, s, 4, down=down, mask=nk.mask, ring=ring)
        eyes = np.stack([-c[0, :3, :3].T @ c[0, :3, 3] for c in cams]) - centre
        eyes /= np.linalg.norm(eyes, axis=1, keepdims=True)
        return np.degrees(np.arccos(np.clip(eyes[1:] @ eyes[0], -1.0, 1.0)))  # view v vs the input

    tilted, level = angles("tilted"), angles("limbs")
    if elevation <= 60.0:  # nothing to tilt: the same ring
        np.testing.assert_allclose(tilted, level, atol=1e-6)
    else:  # about the vertical the views bunch within 2 x (90 - elevation) of the input camera
        assert level.max() < 2.0 * (90.0 - elevation) + 1.0
        np.testing.assert_allclose(tilted, [41.4, 60.0, 41.4], atol=0.5)  # 30 deg off the axis
    # Inference and training windows build the same tilted ring.
    out = multiview_window(kp, w2c, K, (1280, 720), 4, np.random.default_rng(0), down=down,
                           keypoint_drop=0.0, ring="tilted")  # fmt: skip
    cams = multiview_cameras(rel, nk.points, s, 4, down=down, mask=nk.mask, ring="tilted")
    glob = rep.from_root_local(out["x0"].astype(np.float64))
    points = triangulate(glob, None, projection_matrices(np.diag([1 / s, 1 / s, 1.0]), cams))
    np.testing.assert_allclose(points, to_camera(kp, w2c[0]), atol=2e-4)


def test_limbs_ring_windows_are_the_views_inference_builds():
    kp, K, w2c = _looking_down(60.0, num_frames=12)
    down = world_down(w2c[0])
    out = multiview_window(kp, w2c, K, (1280, 720), 4, np.random.default_rng(0), down=down,
                           keypoint_drop=0.0, ring="limbs")  # fmt: skip
    nk = rep.normalise_keypoints(project(kp, K, w2c), K)
    s = nk.normalisation.scale
    cams = multiview_cameras(relative_to_first(w2c), nk.points, s, 4, down=down, mask=nk.mask, ring="limbs")
    glob = rep.from_root_local(out["x0"].astype(np.float64))
    points = triangulate(glob, None, projection_matrices(np.diag([1 / s, 1 / s, 1.0]), cams))
    np.testing.assert_allclose(points, to_camera(kp, w2c[0]), atol=2e-4)
    # Another ring than the image-size guess gives.
    bbox = multiview_cameras(relative_to_first(w2c), nk.points, s, 4, down=down)
    assert np.abs(bbox[1:, :, :3, 3] - cams[1:, :, :3, 3]).max() > 0.5


def test_multiview_window_targets_triangulate_to_the_motion():
    kp, K, w2c = _static_scene()
    out = multiview_window(kp, w2c, K, (1280, 720), 4, np.random.default_rng(0), down=world_down(w2c[0]),
                           keypoint_drop=0.0)  # fmt: skip
    assert out["x0"].shape == (4, 12, 17, 2) and out["camera"].shape == (4, 12, rep.CAMERA_DIM)
    np.testing.assert_allclose(out["x0"][0], out["observed"], atol=1e-5)
    # Recompute the views as inference would, from the input view alone, and triangulate the targets.
    nk = rep.normalise_keypoints(project(kp, K, w2c), K)
    s = nk.normalisation.scale
    cams = multiview_cameras(relative_to_first(w2c), nk.points, s, 4, down=world_down(w2c[0]))
    glob = rep.from_root_local(out["x0"].astype(np.float64))
    points = triangulate(glob, None, projection_matrices(np.diag([1 / s, 1 / s, 1.0]), cams))
    np.testing.assert_allclose(points, to_camera(kp, w2c[0]), atol=2e-4)
    # Camera conditions: view 0 = the input's identity at frame 0; ring views are static.
    np.testing.assert_allclose(out["camera"][0, 0, :12], np.eye(3, 4).ravel(), atol=1e-6)
    assert np.ptp(out["camera"][1:, :, :12], axis=1).max() < 1e-6
    assert not np.allclose(out["camera"][1, 0, :12], out["camera"][2, 0, :12])


def test_epipolar_lines_hold_each_observed_joint_in_every_virtual_view():
    kp, K, w2c = _static_scene()
    out = multiview_window(kp, w2c, K, (1280, 720), 4, np.random.default_rng(0), down=world_down(w2c[0]))
    lines, seen = out["lines"].astype(np.float64), out["observed_mask"] > 0
    target = rep.from_root_local(out["x0"].astype(np.float64))  # (V, T, J, 2) the true views
    assert (lines[0] == 0).all() and (lines[1:][:, ~seen] == 0).all() and seen.mean() > 0.8
    np.testing.assert_allclose(np.hypot(lines[1:, ..., 0], lines[1:, ..., 1])[:, seen], 1.0, atol=1e-5)
    dist = point_line_distance(target[1:], lines[1:])[:, seen]
    assert np.abs(dist).max() < 1e-4
    # Not a line through everything: another joint's true position is off the line.
    assert np.median(np.abs(point_line_distance(target[1:, :, ::-1], lines[1:])[:, seen])) > 1e-2


def test_detector_errors_are_sized_by_the_person_and_leave_the_targets_exact():
    kp, K, w2c = _static_scene()
    clean = multiview_window(kp, w2c, K, (1280, 720), 4, np.random.default_rng(0), down=world_down(w2c[0]),
                             keypoint_drop=0.0)  # fmt: skip
    noisy = multiview_window(kp, w2c, K, (1280, 720), 4, np.random.default_rng(0), down=world_down(w2c[0]),
                             keypoint_drop=0.0, keypoint_noise=0.05, outlier_rate=0.1)  # fmt: skip
    assert not np.allclose(noisy["observed"], clean["observed"], atol=1e-3)
    # The targets are the true motion: view 0's target is the clean observation (up to the
    # normalisation's scale, which comes from the noisy input), not the noisy one.
    target, exact = noisy["x0"][0].ravel(), clean["observed"].ravel()
    factor = (target @ exact) / (exact @ exact)
    np.testing.assert_allclose(target, factor * exact, atol=1e-4)
    assert np.abs(noisy["observed"].ravel() - factor * exact).max() > 1e-2
    # Error size follows the person's image size: the same pose 4x larger gets 4x larger errors.
    rng_px = np.random.default_rng(1)
    px = np.cumsum(rng_px.normal(size=(60, 17, 2)), axis=0) + np.linspace(0, 100, 17)[None, :, None]
    small = detector_errors(px, np.random.default_rng(2), 0.04, 0.05) - px
    large = detector_errors(4 * px, np.random.default_rng(2), 0.04, 0.05) - 4 * px
    np.testing.assert_allclose(large, 4 * small, rtol=1e-9, atol=1e-9)
    big = np.linalg.norm(small, axis=-1) > 0.05 * 100  # gross errors: 5-30 % of the size
    assert 0 < big.mean() < 0.1
    # Missing keypoints stay missing, and no errors means the exact projections.
    px[3, 4] = np.nan
    assert np.isnan(detector_errors(px, np.random.default_rng(3), 0.04, 0.05)[3, 4]).all()
    np.testing.assert_array_equal(detector_errors(px, np.random.default_rng(3), 0.0, 0.0), px)


def test_detector_swaps_exchange_left_and_right_labels_in_bursts():
    rng_px = np.random.default_rng(1)
    px = np.cumsum(rng_px.normal(size=(300, 17, 2)), axis=0) + np.linspace(0, 100, 17)[None, :, None]
    out = detector_errors(px, np.random.default_rng(0), 0.0, 0.0, swaps=0.3)
    moved = ~np.isclose(out, px).all(-1)  # (T, 17)
    # Only the limbs a detector confuses move, and only onto their partner's place: each frame
    # holds the same points, relabelled.
    assert not moved[:, [0, 1, 2, 3, 4, 5, 6]].any()
    assert moved.any(1).mean() > 0.02
    for t in np.flatnonzero(moved.any(1)):
        np.testing.assert_allclose(np.sort(out[t], axis=0), np.sort(px[t], axis=0))
        pairs = [(a, b) for a, b in SWAPPED_LEGS + SWAPPED_ARMS + ((11, 12),) if moved[t, a]]
        assert pairs and all(np.allclose(out[t, a], px[t, b]) for a, b in pairs)
    # Swaps come in bursts of consecutive frames, not single flickers only.
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, moved.any(1).astype(int), 0])))[::2]
    assert runs.max() > 1
    # No swaps without a rate, and existing seeds unchanged by the option.
    np.testing.assert_array_equal(
        detector_errors(px, np.random.default_rng(3), 0.04, 0.05),
        detector_errors(px, np.random.default_rng(3), 0.04, 0.05, swaps=0.0),
    )


def test_dataset_file_round_trips_into_multiview_windows(tmp_path):
    kp, K, w2c = _static_scene(16)
    nk = rep.normalise_keypoints(project(kp, K, w2c), K)
    s = nk.normalisation.scale
    rel = relative_to_first(w2c)
    down = world_down(w2c[0])
    cams = multiview_cameras(rel, nk.points, s, 4, down=down)
    kp_rel = to_camera(kp, w2c[0])
    views, _ = model_points(kp_rel, cams, s)
    ds = MultiViewDataset(
        keypoints3d=kp_rel[None], world_to_camera=rel[None], K=K[None], image_size=np.array([[1280, 720]]),
        down=down[None], views2d=views[None], scale=np.array([s]), fps=30.0,
        info={"fit_error": np.array([0.01]), "source": np.array(["test"])},
    )  # fmt: skip
    path = tmp_path / "mv.npz"
    write_multiview_dataset(path, ds)
    back = read_multiview_dataset(path)
    np.testing.assert_array_equal(back.keypoints3d, ds.keypoints3d)
    assert back.info["source"].tolist() == ["test"] and back.fps == 30.0
    cfg = MultiViewConfig(num_views=4, dataset=str(path), dataset_fraction=1.0,
                          windows=WindowConfig(window=16, keypoint_drop=0.0))  # fmt: skip
    windows = MultiViewWindows(cfg, seed=0)
    assert windows.bank is None  # the "2D only" path reads no mocap
    batch = windows.batch(0, 0, 2)
    glob = rep.from_root_local(batch["x0"][0].astype(np.float64))
    np.testing.assert_allclose(glob, views, atol=1e-4)
    np.save(tmp_path / "bad.npz", np.zeros(3))
    with pytest.raises(InputError):
        read_multiview_dataset(tmp_path / "bad.npz.npy")


def test_time_warp_and_tumble_keep_the_motion_whole():
    from anylift.data import mocap
    from anylift.data.augment import hip_mid, time_warp, tumble

    kp = mocap.load_clip("walk", fps=30.0).keypoints3d[:60]
    rng = np.random.default_rng(0)
    warped = time_warp(kp, 0.3, rng)
    assert warped.shape == kp.shape
    np.testing.assert_allclose(warped[[0, -1]], kp[[0, -1]], atol=1e-9)  # same span
    assert np.abs(warped - kp).max() > 0.02  # but replayed at another pace inside
    bones = lambda x: np.linalg.norm(x[:, 13] - x[:, 11], axis=-1)  # noqa: E731
    flipped = tumble(kp, np.pi, 0.3)
    np.testing.assert_allclose(bones(flipped), bones(kp), atol=1e-9)  # rigid
    assert flipped[..., 2].min() == pytest.approx(kp[..., 2].min())  # back on the floor
    # Upside down: the head is now below the pelvis.
    assert np.mean(flipped[:, 0, 2] < hip_mid(flipped)[:, 2]) > 0.9


def test_recombined_arms_follow_the_donor_on_the_base_body():
    from anylift.data import mocap
    from anylift.data.augment import ARMS, AugmentConfig, _torso_frames, recombine_arms

    base = mocap.load_clip("walk", fps=30.0).keypoints3d
    donor = rotate_yaw(mocap.load_clip("punch", fps=30.0).keypoints3d[: len(base)], 1.0)  # any heading
    mixed = recombine_arms(base, donor)
    arms = [j for chain in ARMS for j in chain[1:]]
    rest = [j for j in range(17) if j not in arms]
    np.testing.assert_array_equal(mixed[:, rest], base[:, rest])  # torso, head, legs: the base's

    def length(x, parent, joint):
        return np.linalg.norm(x[:, joint] - x[:, parent], axis=-1)

    def local(x, parent, joint):  # the bone's direction in the torso's own axes
        v = np.einsum("tji,tj->ti", _torso_frames(x), x[:, joint] - x[:, parent])
        return v / np.linalg.norm(v, axis=-1, keepdims=True)

    for chain in ARMS:
        for bone in itertools.pairwise(chain):
            np.testing.assert_allclose(length(mixed, *bone), length(base, *bone), atol=1e-9)  # the base's
            np.testing.assert_allclose(local(mixed, *bone), local(donor, *bone), atol=1e-9)  # donor motion
            assert np.abs(local(mixed, *bone) - local(base, *bone)).max() > 0.3  # which is not the base's
    # The bank draws donors only when asked: recombine_prob = 0 keeps the earlier windows exactly.
    bank = MotionBank(CLIPS)
    plain = bank.window(np.random.default_rng(3), 60, AugmentConfig())
    again = bank.window(np.random.default_rng(3), 60, AugmentConfig())
    mixed_window = bank.window(np.random.default_rng(3), 60, AugmentConfig(recombine_prob=1.0))
    np.testing.assert_array_equal(plain, again)
    assert not np.allclose(plain, mixed_window)


def test_lean_bends_the_upper_body_at_the_hips_and_keeps_the_legs():
    from anylift.data.augment import AugmentConfig, lean

    walk = load_clip("walk").keypoints3d[:40]
    t = len(walk)
    front = np.stack([np.cos(heading(walk)), np.sin(heading(walk)), np.zeros(t)], axis=-1)
    left = walk[:, 11] - walk[:, 12]
    left /= np.linalg.norm(left, axis=-1, keepdims=True)

    def chest(x):  # the shoulders' midpoint from the hips'
        return 0.5 * (x[:, 5] + x[:, 6]) - hip_mid(x)

    forwards = lean(walk, np.full(t, np.radians(30.0)), np.zeros(t))
    np.testing.assert_array_equal(forwards[:, 11:], walk[:, 11:])  # hips and legs: the clip's
    angle = np.degrees(np.arctan2((chest(forwards) * front).sum(-1), chest(forwards)[:, 2]))
    upright = np.degrees(np.arctan2((chest(walk) * front).sum(-1), chest(walk)[:, 2]))
    np.testing.assert_allclose(angle - upright, 30.0, atol=3.0)  # towards the chest's side
    for shoulder, hip in ((5, 11), (6, 12)):  # bending about the hip line keeps the torso's sides
        np.testing.assert_allclose(
            np.linalg.norm(forwards[:, shoulder] - forwards[:, hip], axis=-1),
            np.linalg.norm(walk[:, shoulder] - walk[:, hip], axis=-1),
            atol=1e-9,
        )
    sideways = lean(walk, np.zeros(t), np.full(t, np.radians(15.0)))
    assert ((chest(sideways) - chest(walk)) * left).sum(-1).min() > 0.05  # towards the body's left
    # Augmentation leans only when asked: lean_prob = 0 keeps the earlier windows exactly.
    bank = MotionBank(CLIPS)
    plain = bank.window(np.random.default_rng(5), 60, AugmentConfig())
    bent = bank.window(np.random.default_rng(5), 60, AugmentConfig(lean_prob=1.0))
    np.testing.assert_array_equal(plain, bank.window(np.random.default_rng(5), 60, AugmentConfig()))
    assert not np.allclose(plain, bent)


def test_swung_limbs_keep_their_bones_and_the_feet_the_body_stands_on():
    from anylift.data.augment import LIMBS, AugmentConfig, _torso_frames, swing_limbs

    walk = load_clip("walk").keypoints3d[:40]
    t = len(walk)
    axes = np.tile([0.0, 0.0, 1.0], (4, 1))  # about the torso's forward axis: arms and legs out sideways
    swings, bends = np.full((4, t), np.radians(20.0)), np.full((4, t), np.radians(15.0))
    swung = swing_limbs(walk, axes, swings, bends)
    limbs = [j for limb in LIMBS for j in limb[1:]]
    rest = [j for j in range(17) if j not in limbs]
    np.testing.assert_array_equal(swung[:, rest], walk[:, rest])  # torso and head: the clip's
    for root, mid, end in LIMBS:
        for a, b in ((root, mid), (mid, end)):
            np.testing.assert_allclose(
                np.linalg.norm(swung[:, b] - swung[:, a], axis=-1),
                np.linalg.norm(walk[:, b] - walk[:, a], axis=-1),
                atol=1e-9,
            )

    # The hands, well above the floor, moved by the full angles: the elbow bent 15 deg more ...
    def bend(x, root, mid, end):
        u, v = x[:, mid] - x[:, root], x[:, end] - x[:, mid]
        return np.degrees(
            np.arccos((u * v).sum(-1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1))
        )

    np.testing.assert_allclose(
        bend(swung, *LIMBS[0]), np.minimum(bend(walk, *LIMBS[0]) + 15.0, 150.0), atol=1e-6
    )
    # ... and the upper arm turned 20 deg about the torso's forward axis.
    forward = _torso_frames(walk)[:, :, 2]
    upper = lambda x: x[:, 7] - x[:, 5]  # noqa: E731
    ortho = lambda v: v - (v * forward).sum(-1, keepdims=True) * forward  # noqa: E731
    a, b = ortho(upper(walk)), ortho(upper(swung))
    cos = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    np.testing.assert_allclose(np.degrees(np.arccos(np.clip(cos, -1, 1))), 20.0, atol=1e-6)
    # A foot on the floor stays where it is; one in the air moves.
    floor = walk[..., 2].min()
    for ankle in (15, 16):
        down, up = walk[:, ankle, 2] < floor + 0.01, walk[:, ankle, 2] > floor + 0.18
        assert down.any() and up.any()
        assert np.abs(swung[down, ankle] - walk[down, ankle]).max() < 0.03
        assert np.linalg.norm(swung[up, ankle] - walk[up, ankle], axis=-1).min() > 0.05
    # Augmentation swings limbs only when asked: limb_prob = 0 keeps the earlier windows exactly.
    bank = MotionBank(CLIPS)
    plain = bank.window(np.random.default_rng(7), 60, AugmentConfig())
    np.testing.assert_array_equal(plain, bank.window(np.random.default_rng(7), 60, AugmentConfig()))
    assert not np.allclose(plain, bank.window(np.random.default_rng(7), 60, AugmentConfig(limb_prob=1.0)))
