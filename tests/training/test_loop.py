"""The training loop: configs, learning rate, exact resume, DDP (torchrun, 2 processes, gloo)."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from anylift.errors import InputError
from anylift.lifting.denoiser import checkpoint_denoiser
from anylift.models import load_checkpoint
from anylift.training import load_config, loop, make_task, train
from anylift.training.loop import learning_rate

ROOT = Path(__file__).parents[2]
CONFIGS = ROOT / "training" / "configs"
LOSS_COLUMNS = ("step", "loss", "l1", "line", "lr", "val_loss", "val_l1", "val_line")


def _rows(path: Path) -> list[tuple[str, ...]]:
    with path.open(newline="") as f:
        return [tuple(r[c] for c in LOSS_COLUMNS) for r in csv.DictReader(f)]


def test_config_files_and_overrides(tmp_path):
    cfg = load_config(CONFIGS / "tiny_single_view.toml", ["steps=5", "model.width=16", f"out_dir={tmp_path}"])
    assert cfg.steps == 5 and cfg.model["width"] == 16 and cfg.model["layers"] == 2
    for name in ("single_view", "multi_view"):
        assert load_config(CONFIGS / f"{name}.toml").task == name
    with pytest.raises(InputError, match="unknown keys"):
        load_config(CONFIGS / "tiny_single_view.toml", ["stepz=3"])
    for override in ("data.bogus=1", "model.width=30"):  # unknown data key; width not divisible by heads
        with pytest.raises(InputError):
            make_task_and_model(load_config(CONFIGS / "tiny_single_view.toml", [override]))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError) as info:
        load_config(bad)
    assert "bad.json" in str(info.value)


def make_task_and_model(config):
    task = make_task(config)
    return task, task.model_config(config.model)


def test_learning_rate_warms_up_then_decays():
    cfg = load_config(None, ["steps=100", "warmup_steps=10", "lr=1.0", "min_lr_ratio=0.1"])
    assert learning_rate(cfg, 0) == pytest.approx(0.1)
    assert learning_rate(cfg, 9) == pytest.approx(1.0)
    assert learning_rate(cfg, 10) == pytest.approx(1.0)
    assert learning_rate(cfg, 55) == pytest.approx(0.55)
    assert learning_rate(cfg, 100) == pytest.approx(0.1)


def test_resume_reproduces_the_uninterrupted_run(tmp_path):
    base = load_config(CONFIGS / "tiny_single_view.toml", [f"out_dir={tmp_path / 'full'}"])
    full = train(base)
    split = load_config(CONFIGS / "tiny_single_view.toml", [f"out_dir={tmp_path / 'split'}"])
    train(split, stop_after=5)  # state saved at step 5 (end of this session), not at a checkpoint step
    (tmp_path / "split" / "log.csv").open("a").write("99,1,1,1,1,,,,1\n")  # a row a crash left behind
    resumed = train(split)
    a, b = _rows(tmp_path / "full" / "log.csv"), _rows(tmp_path / "split" / "log.csv")
    assert len(a) == base.steps and a == b  # same losses, validation losses and learning rates
    assert float(a[-1][1]) < float(a[0][1])  # it learns
    for x, y in zip(full["model"].state_dict().values(), resumed["model"].state_dict().values()):
        torch.testing.assert_close(x, y, rtol=0, atol=0)
    ckpt = load_checkpoint(tmp_path / "split" / "model.pt", kind="single_view")
    assert ckpt.extra["step"] == base.steps and ckpt.ema_model is not None
    assert ckpt.normalisation["body_size_m"] == pytest.approx(1.5)


def test_multi_view_run_starts_from_single_view_weights(tmp_path):
    sv = load_config(CONFIGS / "tiny_single_view.toml", [f"out_dir={tmp_path / 'sv'}", "steps=2"])
    train(sv)
    mv = load_config(
        CONFIGS / "tiny_multi_view.toml",
        [f"out_dir={tmp_path / 'mv'}", "steps=2", f"init_from={tmp_path / 'sv' / 'model.pt'}"],
    )
    out = train(mv, stop_after=0)  # initialise only
    single = load_checkpoint(tmp_path / "sv" / "model.pt").model.state_dict()
    weights = out["model"].state_dict()
    shared = [k for k in single if k in weights and single[k].shape == weights[k].shape]
    assert len(shared) > 5 and any("attn_v" in k for k in weights if k not in shared)
    for k in shared:
        torch.testing.assert_close(weights[k], single[k])


def test_multi_view_run_continues_a_multi_view_checkpoint_in_bf16(tmp_path):
    first = load_config(CONFIGS / "tiny_multi_view.toml", [f"out_dir={tmp_path / 'a'}", "steps=2"])
    train(first)
    start = load_checkpoint(tmp_path / "a" / "model.pt").inference_model.state_dict()
    more = load_config(
        CONFIGS / "tiny_multi_view.toml",
        [f"out_dir={tmp_path / 'b'}", "steps=2", f"init_from={tmp_path / 'a'}/model.pt", "precision=bf16",
         "data.ring=tilted"],
    )  # fmt: skip
    out = train(more, stop_after=0)  # initialise only: every weight comes from the checkpoint
    for k, v in out["model"].state_dict().items():
        torch.testing.assert_close(v, start[k])
    # Two bf16 steps (fp32 on a CPU without native bf16): finite losses, fp32 weights that moved.
    result = train(more)
    assert all(v.dtype == torch.float32 for v in result["model"].state_dict().values())
    assert any(not torch.equal(v, start[k]) for k, v in result["model"].state_dict().items())
    rows = _rows(tmp_path / "b" / "log.csv")
    assert rows and all(float(r[1]) == float(r[1]) for r in rows)  # not NaN
    # The checkpoint says how its ring of views was placed; a lift with it does the same.
    assert load_checkpoint(tmp_path / "a" / "model.pt").normalisation["ring"] == "bbox"
    assert load_checkpoint(tmp_path / "b" / "model.pt").normalisation["ring"] == "tilted"
    assert checkpoint_denoiser(tmp_path / "b" / "model.pt", "cpu")[0].ring == "tilted"
    with pytest.raises(InputError, match="precision"):
        load_config(None, ["precision=fp8"])


def test_bf16_trains_in_fp32_and_says_so_where_the_cpu_has_no_bf16(monkeypatch, capsys):
    assert loop.native_bf16("cuda")  # asks nothing of the CPU
    config = load_config(None, ["precision=bf16"])
    monkeypatch.setattr(loop, "native_bf16", lambda device: True)
    assert loop.run_precision(config, "cpu") == "bf16"
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(loop, "native_bf16", lambda device: False)
    assert loop.run_precision(config, "cpu") == "fp32"
    assert "no native bf16" in capsys.readouterr().err
    assert loop.run_precision(config, "cpu", say=False) == "fp32"
    assert capsys.readouterr().err == ""
    assert loop.run_precision(load_config(None, ["precision=fp32"]), "cpu") == "fp32"


DRIVER = """
import os, sys, torch
from anylift.training import load_config, make_task, train
result = train(load_config(sys.argv[1], sys.argv[3:]))
torch.save(result["model"].state_dict(), os.path.join(sys.argv[2], f"rank{os.environ['RANK']}.pt"))
"""


@pytest.mark.slow
def test_torchrun_two_processes_end_with_identical_weights(tmp_path):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        str(driver), str(CONFIGS / "tiny_single_view.toml"), str(tmp_path),
        f"out_dir={tmp_path / 'run'}", "steps=4", "val_every=4", "checkpoint_every=4",
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    w0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    w1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    for k in w0:
        torch.testing.assert_close(w0[k], w1[k], rtol=0, atol=0)
    # The ranks saw different data: a single process on rank 0's batches alone ends elsewhere.
    alone = train(
        load_config(CONFIGS / "tiny_single_view.toml", [f"out_dir={tmp_path / 'alone'}", "steps=4"])
    )
    diff = max(float((alone["model"].state_dict()[k] - w0[k]).abs().max()) for k in w0)
    assert diff > 1e-6
    assert len(_rows(tmp_path / "run" / "log.csv")) == 4
