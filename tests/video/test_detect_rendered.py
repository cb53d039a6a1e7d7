"""Detection and the camera on a short Blender render of the proxy body (needs bpy + MediaPipe).

Thresholds are loose on purpose: they catch a broken front end (wrong joint order, pixels
scaled or flipped, a rotation sign), not the last pixel of MediaPipe on a mannequin; the
benchmark (benchmarks/video_frontend.py) reports the real figures.
"""

import numpy as np
from scipy.spatial.transform import Rotation

from anylift.io.keypoints import read_keypoints, write_keypoints
from anylift.video.camera_estimation import estimate_camera
from anylift.video.detect import detect_keypoints


def test_detect_against_projected_truth(rendered_clip, tmp_path):
    truth = np.load(rendered_clip / "truth.npz")
    # The main person of ``anylift detect``'s tracks (every track: tests/video/test_people.py).
    out = tmp_path / "kp.json"
    write_keypoints(out, detect_keypoints(rendered_clip / "video.mp4"))
    kp = read_keypoints(out)
    assert kp.num_frames == len(truth["keypoints2d"]) and kp.image_size == (320, 240)
    ok = (kp.scores > 0) & truth["in_image"]
    assert ok.sum() > 0.7 * truth["in_image"].sum()
    err = np.linalg.norm(kp.keypoints[..., :2] - truth["keypoints2d"], axis=-1)[ok]
    assert np.median(err) < 8.0, np.median(err)
    # Left and right are not swapped: left joints lie nearer the true left joints.
    left, right = [5, 7, 9, 11, 13, 15], [6, 8, 10, 12, 14, 16]
    same = np.nanmean(np.linalg.norm(kp.keypoints[:, left, :2] - truth["keypoints2d"][:, left], axis=-1))
    swap = np.nanmean(np.linalg.norm(kp.keypoints[:, left, :2] - truth["keypoints2d"][:, right], axis=-1))
    assert same < swap


def test_progress_and_camera_rotation_on_render(rendered_clip):
    truth = np.load(rendered_clip / "truth.npz")
    stages = []
    kp = detect_keypoints(rendered_clip / "frames", progress=lambda s, d, t: stages.append((s, d, t)))
    assert stages[-1][1] == len(truth["keypoints2d"]) and stages[0][1] == 0
    est = estimate_camera(rendered_clip / "video.mp4", kp, focal=float(truth["K"][0, 0]))
    Re, Rg = est.camera.world_to_camera[:, :3, :3], truth["world_to_camera"][:, :3, :3]
    rel = (Re @ Re[0].T) @ np.transpose(Rg @ Rg[0].T, (0, 2, 1))
    err = np.degrees(Rotation.from_matrix(rel).magnitude())
    assert err.max() < 3.0, err
    assert np.isfinite(est.person_depth).all()


def test_render_truth_is_read_by_anylift_eval(rendered_clip, capsys):
    """benchmarks/render_test_video.py's truth.npz is an anylift.motion/1 file: eval reads it."""
    import json

    from anylift.cli import main as anylift_main
    from anylift.io.motion import read_motion

    truth = rendered_clip / "truth.npz"
    m = read_motion(truth)
    raw = np.load(truth)
    np.testing.assert_allclose(m.keypoints3d, raw["keypoints3d"])
    np.testing.assert_allclose(m.world_to_camera, raw["world_to_camera"])
    assert anylift_main(["eval", str(truth), "--truth", str(truth), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["mpjpe_mm"] == 0.0 and metrics["j2d_px"] < 1e-6
