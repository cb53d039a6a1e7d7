"""benchmarks/estimated_camera.py: its paths in frame 0's camera axes and its table."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from anylift.data.trajectories import look_at
from tests.benchmark_modules import load_benchmark


def test_paths_are_displacements_in_frame_zero_camera_axes_whatever_the_world():
    bench = load_benchmark("estimated_camera")
    eyes = np.array([[0.0, -5.0, 1.5], [1.0, -5.0, 1.5], [2.0, -4.0, 1.5]])
    w2c = np.stack([look_at(e, np.array([0.0, 0.0, 1.5])) for e in eyes])
    path = bench.camera_path(w2c)
    np.testing.assert_allclose(path[0], 0.0, atol=1e-12)
    # Frame 0 looks level along +y: the camera stepping +x in the world steps right (+x) in its axes,
    # and +y in the world is forward (+z).
    np.testing.assert_allclose(path[1], [1.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(path[2], [2.0, 0.0, 1.0], atol=1e-9)
    # The same scene in a turned and moved world: the same path.
    turn = np.eye(4)
    turn[:3, :3] = Rotation.from_euler("zx", [40, 15], degrees=True).as_matrix()
    turn[:3, 3] = [3.0, -2.0, 0.5]
    np.testing.assert_allclose(bench.camera_path(w2c @ np.linalg.inv(turn)), path, atol=1e-9)


def test_table_has_a_row_per_family_and_an_overall_row():
    bench = load_benchmark("estimated_camera")
    row = dict(focal_error=-0.2, rotation_deg=1.0, camera_error=0.3, camera_moves=1.0,
               camera_moves_estimated=0.5, root_path_true=0.1, root_path_estimated=0.2,
               root_path_static=0.4, motion="general")  # fmt: skip
    still = dict(row, camera_moves=0.0, camera_moves_estimated=0.0, focal_error=0.1)
    lines = bench.table({"walk/orbit/0": row, "kick/tripod_pan/1": still})
    assert lines[2].startswith("| orbit | 1 | 20 % | 1.00 | 0.300 | 0.50 (median) | 0.100 | 0.200 | 0.400 |")
    assert lines[3].startswith("| tripod_pan | 1 | 10 % |") and "| - |" in lines[3]
    assert lines[4].startswith("| **all** | 2 | 15 % |")
