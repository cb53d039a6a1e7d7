"""Helper process for test_interrupt.py: write a large result the way ``anylift lift`` does.

``python write_driver.py OUT.npz FRAMES LINGER`` writes a motion of FRAMES frames (fps 30) with the
command line's own code: :func:`anylift.cli.write_result` under :func:`anylift.cli.run_guarded`
(the signal handling and exit codes of ``anylift lift``). Prints ``writing`` just before the
write, then the seconds it took, then waits LINGER seconds before exiting.
"""

import sys
import time

import numpy as np

from anylift import cli
from anylift.io.motion import Motion


def big_motion(frames: int, samples: int = 4, fps: float = 30.0) -> Motion:
    """A result of ``frames`` frames with random (incompressible) values."""
    rng = np.random.default_rng(frames)
    return Motion(
        fps=fps,
        joints=rng.normal(size=(frames, 24, 3)),
        keypoints3d=rng.normal(size=(frames, 17, 3)),
        global_orient=rng.normal(size=(frames, 3)),
        body_pose=rng.normal(size=(frames, 69)),
        transl=rng.normal(size=(frames, 3)),
        betas=np.zeros(10),
        body_model="smpl-proxy",
        world_to_camera=np.tile(np.eye(4), (frames, 1, 1)),
        intrinsics=np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]]),
        keypoints3d_std=np.abs(rng.normal(size=(frames, 17))),
        samples_keypoints3d=rng.normal(size=(samples, frames, 17, 3)),
    )


def _write(out: str, frames: int, linger: float) -> int:
    motion = big_motion(frames)
    print("writing", flush=True)
    start = time.perf_counter()
    cli.write_result(out, motion)
    print(f"{time.perf_counter() - start:.3f}", flush=True)
    time.sleep(linger)  # a late signal still finds the process (as after a lift's write)
    return 0


if __name__ == "__main__":
    sys.exit(cli.run_guarded(_write, sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
