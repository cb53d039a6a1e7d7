"""The footage benchmark's renders through another lens (``benchmarks/people_video.py --focal``)."""

from __future__ import annotations

import numpy as np

from tests.benchmark_modules import load_benchmark


def test_another_lens_changes_the_focal_length_only():
    bench = load_benchmark("render_people_video")
    for kind, own in (("elevated", 640.0), ("handheld", 520.0)):
        K, w2c = bench.make_camera(kind, 20, 25.0, (640, 360), seed=0)
        K2, w2c2 = bench.make_camera(kind, 20, 25.0, (640, 360), seed=0, focal=460.0)
        assert K[0, 0] == K[1, 1] == own and K2[0, 0] == K2[1, 1] == 460.0
        np.testing.assert_array_equal(K[:2, 2], K2[:2, 2])
        np.testing.assert_array_equal(w2c, w2c2)


def test_another_lens_is_cached_apart_and_the_scenes_own_keep_their_folders(monkeypatch, tmp_path):
    bench = load_benchmark("render_people_video")
    made = []
    monkeypatch.setattr(bench, "_REPO", tmp_path)  # nothing rendered yet
    monkeypatch.setattr(bench.subprocess, "run", lambda argv, **kw: made.append(argv))
    own, other = bench.cached_people_render("single25"), bench.cached_people_render("single25", focal=900.0)
    assert own != other
    # The scene's own lens keeps the key it had before lenses could be chosen.
    spec = [bench.SCENES["single25"], [640, 360], bench.RENDER_VERSION]
    assert own.name == "single25-" + bench.hashlib.sha1(bench.json.dumps(spec).encode()).hexdigest()[:10]
    assert "--focal" not in made[0] and made[1][-2:] == ["--focal", "900.0"]
