"""The samples' spread split into placement (root) and pose (root-relative) (issue 16, item 4)."""

import numpy as np
import pytest

from anylift.errors import InputError
from anylift.fitting.smpl_fit import SmplFitConfig
from anylift.io.motion import read_motion, write_motion
from anylift.lifting import spread
from anylift.pipeline import lift


def _body(rng, t=5):
    """(T, 17, 3) a standing COCO-17 body, 1 m legs, 0.5 m trunk, with a little motion."""
    k = np.zeros((t, 17, 3))
    k[:, [11, 12]] = [[0.1, 0, 1.0], [-0.1, 0, 1.0]]
    k[:, [13, 14]] = [[0.1, 0, 0.5], [-0.1, 0, 0.5]]
    k[:, [15, 16]] = [[0.1, 0, 0.0], [-0.1, 0, 0.0]]
    k[:, [5, 6]] = [[0.2, 0, 1.5], [-0.2, 0, 1.5]]
    k[:, 0] = [0, 0, 1.7]
    return k + rng.normal(0, 0.01, size=k.shape)


def test_depth_disagreement_is_placement_not_pose():
    rng = np.random.default_rng(0)
    body = _body(rng)
    # Four samples of the same pose, placed at depths 0.3 m apart: all the spread is the root's.
    depth = np.array([0.0, 0.3, 0.6, 0.9])
    samples = body[None] + depth[:, None, None, None] * np.array([0, 1.0, 0])
    s = spread.sample_spread(samples)
    want_root = np.sqrt(np.mean((depth - np.median(depth)) ** 2))
    np.testing.assert_allclose(s.root_std, want_root)
    np.testing.assert_allclose(s.pose_std, 0.0, atol=1e-12)
    np.testing.assert_allclose(s.std, want_root)  # the old total: every joint looked unsure
    np.testing.assert_allclose(s.fused, np.median(samples, axis=0))
    # Now one wrist (10) also disagrees, by 5 cm: only it has a pose spread.
    samples[:, :, 10, 0] += np.array([0.0, 0.05, -0.05, 0.0])[:, None]
    s = spread.sample_spread(samples)
    assert s.pose_std[:, 10] == pytest.approx(np.full(5, np.sqrt(0.05**2 / 2)))
    assert np.delete(s.pose_std, 10, axis=1).max() < 1e-12
    fused, std = spread.fuse(samples)
    np.testing.assert_allclose(std, s.std) and np.testing.assert_allclose(fused, s.fused)
    assert spread.motion_fields(samples[:1]) == {}


def test_samples_at_different_depths_fuse_into_one_upright_pose():
    """Three samples, each at its own depth along the rays of a camera looking down (same image):
    upright, leaning 6 deg forward, 6 deg back. Fused at one depth they give the median pose, the
    upright one; a per-coordinate median mixes joints of different depths and leans ~5 deg."""
    from scipy.spatial.transform import Rotation

    from anylift.lifting.placement import rescale_about_centres

    body = _body(np.random.default_rng(1))
    centres = np.tile([0.0, -4.0, 3.0], (len(body), 1))  # 3 m up, 4 m away: looking down ~30 deg

    def leaning(k, deg):
        out, hips, upper = k.copy(), k[:, [11, 12]].mean(1, keepdims=True), [0, 5, 6]
        out[:, upper] = (k[:, upper] - hips) @ Rotation.from_euler(
            "x", deg, degrees=True
        ).as_matrix().T + hips
        return out

    def lean(k):
        torso = k[:, [5, 6]].mean(1) - k[:, [11, 12]].mean(1)
        return np.degrees(np.arccos(torso[:, 2] / np.linalg.norm(torso, axis=-1)))

    samples = np.stack([rescale_about_centres(leaning(body, deg), centres, np.full(len(body), f))
                        for f, deg in ((0.85, 0.0), (1.0, 6.0), (1.15, -6.0))])  # fmt: skip
    fused, std = spread.fuse(samples, centres)
    assert np.abs(lean(fused) - lean(body)).max() < 0.05
    assert np.abs(lean(np.median(samples, axis=0)) - lean(body)).min() > 4.0
    np.testing.assert_allclose(std, np.sqrt((np.linalg.norm(samples - fused, axis=-1) ** 2).mean(0)))


def test_body_size():
    body = _body(np.random.default_rng(1))
    assert spread.body_size(body) == pytest.approx(1.5, abs=0.03)  # legs 1.0 + trunk 0.5
    body[2:, 13] = np.nan
    assert spread.body_size(body) == pytest.approx(1.5, abs=0.03)
    with pytest.raises(ValueError, match="no frame"):
        spread.body_size(np.full((3, 17, 3), np.nan))


def test_lift_with_samples_reports_both_and_round_trips(walk_scene, tmp_path):
    sc = walk_scene
    fit = SmplFitConfig(stage1_iterations=10, stage2_iterations=20)
    m = lift(sc.keypoints, sc.camera, steps=2, samples=3, fit_config=fit)
    t = m.num_frames
    assert m.root_std.shape == (t,) and m.keypoints3d_pose_std.shape == (t, 17)
    again = spread.sample_spread(m.samples_keypoints3d)
    np.testing.assert_allclose(m.root_std, again.root_std)
    np.testing.assert_allclose(m.keypoints3d_pose_std, again.pose_std)
    write_motion(tmp_path / "m.npz", m)
    back = read_motion(tmp_path / "m.npz")
    np.testing.assert_array_equal(back.root_std, m.root_std)
    np.testing.assert_array_equal(back.keypoints3d_pose_std, m.keypoints3d_pose_std)
    with pytest.raises(InputError, match="root_std"):
        type(m)(**{**{f: getattr(m, f) for f in m.__dataclass_fields__}, "root_std": -m.root_std - 1})
    one = lift(sc.keypoints, sc.camera, steps=2, samples=1, fit_config=fit)
    assert one.root_std is None and one.keypoints3d_pose_std is None


def test_cli_prints_placement_and_pose_spread(walk_scene, tmp_path, capsys):
    from anylift.cli import main
    from anylift.io.cameras import write_camera
    from anylift.io.keypoints import write_keypoints

    write_keypoints(tmp_path / "k.json", walk_scene.keypoints)
    write_camera(tmp_path / "c.json", walk_scene.camera)
    args = ["lift", str(tmp_path / "k.json"), "--camera", str(tmp_path / "c.json")]
    args += ["--out", str(tmp_path / "r.npz")]
    assert main([*args, "--samples", "2", "--steps", "2", "--progress", "none"]) == 0
    m = read_motion(tmp_path / "r.npz")
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("spread"))
    assert line == (
        f"spread of the samples (median): placement {1000 * np.median(m.root_std):.0f} mm, "
        f"pose {1000 * np.median(m.keypoints3d_pose_std):.0f} mm"
    )
