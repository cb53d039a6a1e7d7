"""Render the proxy body (rest pose and a bent pose) to a PNG for a visual check.

Usage: python tests/body/render_proxy.py [OUT.png]   (default /tmp/al/proxy_body.png)
Drawn in the engine's Z-up world (SMPL's Y-up turned by YUP_TO_ZUP), flat-shaded.
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from mpl_toolkits.mplot3d.art3d import Poly3DCollection

from anylift.body import YUP_TO_ZUP, load_body_model


def bent_pose() -> np.ndarray:
    """(69,) body pose: left elbow flexed 90 deg, right arm down, right knee bent, head turned."""
    pose = np.zeros((23, 3))
    pose[18 - 1] = (0.0, -np.pi / 2, 0.0)  # left elbow: forearm forward
    pose[17 - 1] = (0.0, 0.0, 1.2)  # right shoulder: arm down
    pose[5 - 1] = (np.pi / 2, 0.0, 0.0)  # right knee bent
    pose[2 - 1] = (-0.6, 0.0, 0.0)  # right hip flexed
    pose[15 - 1] = (0.0, 0.5, 0.0)  # head turned to its left
    return pose.reshape(-1)


def draw(ax, verts: np.ndarray, faces: np.ndarray, elev: float, azim: float, title: str) -> None:
    tri = verts[faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
    light = np.array([0.4, -0.8, 0.6])
    light /= np.linalg.norm(light)
    shade = 0.35 + 0.65 * np.clip(n @ light, 0.0, 1.0)
    colors = np.clip(shade[:, None] * np.array([0.85, 0.72, 0.55]), 0, 1)
    ax.add_collection3d(Poly3DCollection(tri, facecolors=colors, edgecolors="none"))
    lo, hi = verts.min(0), verts.max(0)
    c, r = (lo + hi) / 2, (hi - lo).max() / 2
    ax.set_xlim(c[0] - r, c[0] + r)
    ax.set_ylim(c[1] - r, c[1] + r)
    ax.set_zlim(c[2] - r, c[2] + r)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=elev, azim=azim)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def main(out: str = "/tmp/al/proxy_body.png") -> None:
    torch.set_num_threads(1)
    body = load_body_model()
    zeros = torch.zeros(1, 69)
    rest = body(body_pose=zeros).vertices[0].numpy() @ YUP_TO_ZUP.T
    bent = body(body_pose=torch.tensor(bent_pose(), dtype=torch.float32)[None]).vertices[0].numpy()
    bent = bent @ YUP_TO_ZUP.T
    height = rest[:, 2].max() - rest[:, 2].min()
    fig = plt.figure(figsize=(16, 8))
    views = [
        (rest, 5, -90, f"rest, front (height {height:.3f} m)"),
        (rest, 5, 0, "rest, side (facing -y)"),
        (rest, 20, -60, "rest, 3/4"),
        (bent, 10, -90, "bent, front"),
        (bent, 15, -40, "bent, 3/4"),
        (bent, 80, -90, "bent, top"),
    ]
    for i, (v, elev, azim, title) in enumerate(views):
        draw(fig.add_subplot(2, 3, i + 1, projection="3d"), v, body.faces, elev, azim, title)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    print(f"wrote {out}; height {height:.3f} m")


if __name__ == "__main__":
    main(*sys.argv[1:])
