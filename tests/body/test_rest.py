"""The body's rest mesh for the add-on: ``compute_body_rest`` and ``anylift rest-mesh`` (exit 0/2)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from anylift.body.model import YUP_TO_ZUP, load_body_model
from anylift.body.proxy import proxy_model_path
from anylift.body.rest import REST_FIELDS, compute_body_rest, upright_rotation
from anylift.cli import main

BETAS = np.array([0.5, -1.0, 0.3, 0.0, 0.2, -0.4, 0.1, 0.0, -0.2, 0.6])


def test_rest_mesh_is_the_zero_pose_turned_upright():
    rest = compute_body_rest(BETAS, "smpl-proxy")
    model = load_body_model(proxy_model_path())
    with torch.no_grad():
        out = model.forward(
            torch.tensor(BETAS[None], dtype=torch.float32), *(torch.zeros(1, n) for n in (3, 69, 3))
        )
    joints = out.joints[0].numpy().astype(np.float64)
    # The proxy's zero pose stands along SMPL's +Y: D is the Y-up -> Z-up turn's inverse.
    np.testing.assert_allclose(rest["upright_to_model"], YUP_TO_ZUP.T)
    np.testing.assert_allclose(rest["rest_joints"], joints @ YUP_TO_ZUP.T, atol=1e-6)
    assert rest["rest_joints"][15, 2] - rest["rest_joints"][0, 2] > 0.4  # head above pelvis, Z up
    assert rest["vertices"].shape == (6890, 3) and rest["faces"].shape[1] == 3
    np.testing.assert_allclose(rest["weights"].sum(1), 1.0, atol=1e-5)
    assert str(rest["kind"]) == "smpl-proxy"
    np.testing.assert_allclose(upright_rotation(rest["rest_joints"]), np.eye(3))


def test_rest_mesh_command(tmp_path, capsys):
    out = tmp_path / "rest.npz"
    betas = ",".join(repr(b) for b in BETAS)
    assert (
        main(
            ["rest-mesh", "--kind", "smpl-proxy", "--betas", betas, "--out", str(out), "--progress", "jsonl"]
        )
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[-1] == {"stage": "rest mesh", "done": 1, "total": 1}
    with np.load(out) as data:
        assert set(data.files) == set(REST_FIELDS)
        np.testing.assert_allclose(data["vertices"], compute_body_rest(BETAS, "smpl-proxy")["vertices"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--betas", "1,2,3"], "--betas: got '1,2,3' (expected 10 finite comma-separated numbers"),
        (
            ["--betas", ",".join(["0"] * 10), "--kind", "smpl"],
            "body model 'smpl' but 'smpl-proxy' is configured",
        ),
    ],
)
def test_rest_mesh_user_errors_exit_2(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.delenv("ANYLIFT_SMPL_MODEL", raising=False)
    out = tmp_path / "rest.npz"
    argv = ["rest-mesh", "--kind", "smpl-proxy", "--out", str(out), *args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not out.exists()
