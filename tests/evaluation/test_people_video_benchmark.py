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


def test_every_scene_films_training_clips_from_above_the_floor():
    """Every scene (the four the tracker was tuned on and the twenty-one camera designs added after)
    uses training clips only, its camera stays above the floor (low30's is on the ground, 0.35 m
    up), and each person's hips are in the picture for most of the clip."""
    from anylift.data.mocap import TRAIN_CLIPS, load_clip
    from anylift.geometry.camera import project

    bench = load_benchmark("render_people_video")
    later = {"tripod30", "phone24", "steep50", "steep25", "orbit30", "close24", "tele25", "dutch60", "low30"}
    later |= {"drone30", "judge30", "courtyard10", "enter25", "follow30", "balcony24"}
    later |= {"toward30", "chase30", "zoom25"}
    assert later <= set(bench.SCENES)
    for name, spec in bench.SCENES.items():
        fps, frames = spec["fps"], round(spec["fps"] * spec["seconds"])
        size = bench.scene_size(name)
        K, w2c = bench.make_camera(spec["camera"], frames, fps, size, spec["seed"])
        centres = -np.einsum("tji,tj->ti", w2c[:, :3, :3], w2c[:, :3, 3])
        assert (centres[:, 2] > 0.3).all(), name
        for clip, start, heading, scale, _colour in spec["people"]:
            assert clip in TRAIN_CLIPS, (name, clip)
            kp = load_clip(clip, fps=fps).keypoints3d
            hips = bench._place(bench._looped(kp[:, :1], kp, frames)[1], kp[0, 11:13].mean(0), heading, scale,
                                start)[:, 11:13].mean(1)  # fmt: skip
            uv = project(hips[:, None], K, w2c)[:, 0]
            inside = ((uv >= 0) & (uv <= size)).all(1)
            assert inside.mean() > 0.5, (name, clip, inside.mean())


def test_a_track_given_to_two_people_is_counted():
    """Two people, one in each half of the clip (an edited video): one track following both is a
    track given to two people (purity per person does not see it); one track each is not."""
    from anylift.io.people import People, PersonTrack

    bench = load_benchmark("people_video")
    t_len = 20
    boxes = np.full((2, t_len, 4), np.nan)
    boxes[0, :10] = [100, 100, 140, 200]
    boxes[1, 10:] = [300, 100, 340, 200]
    visible = np.zeros((2, t_len, 17), bool)
    visible[0, :10] = visible[1, 10:] = True
    truth = {"boxes": boxes, "visible": visible, "height_px": np.full((2, t_len), 100.0), "fps": 25.0}

    def track(tid, frames):
        kp = np.zeros((t_len, 17, 3))
        b = np.full((t_len, 4), np.nan)
        for t in frames:
            b[t] = boxes[0 if t < 10 else 1, t]
            kp[t, :, 2] = 0.9
        return PersonTrack(tid, kp, b)

    one = People([track(1, range(t_len))], 25.0, (640, 360))
    two = People([track(1, range(10)), track(2, range(10, t_len))], 25.0, (640, 360))
    for people, mixed in ((one, 1), (two, 0)):
        r = bench.tracking_metrics(truth, people)
        assert r["mixed_tracks"] == mixed and r["purity_min"] == 1.0 and r["switches"] == 0


def test_a_zooming_shot_cut_into_an_edit_keeps_its_own_lens_per_frame(monkeypatch, tmp_path):
    """``people_video.edited``: the truth's ``frame_K`` holds each shot's lens frame by frame, a
    zooming shot's (``render_people_video``'s ``frame_K``) as it was rendered."""
    import cv2

    bench = load_benchmark("people_video")
    folders = {}
    for name, zoom in (("still", None), ("zoom", np.linspace(1.0, 2.0, 6))):
        folder = tmp_path / f"{name}-key"
        folder.mkdir()
        writer = cv2.VideoWriter(str(folder / "video.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (64, 48))
        for _ in range(6):
            writer.write(np.zeros((48, 64, 3), np.uint8))
        writer.release()
        K = np.array([[100.0, 0, 32], [0, 100.0, 24], [0, 0, 1]])
        truth = {"fps": 25.0, "image_size": np.array([64, 48]), "K": K, "clips": np.array(["walk"]),
                 "scales": np.ones(1), "world_to_camera": np.tile(np.eye(4), (6, 1, 1)),
                 "frame_times": np.arange(6) / 25.0, "render_seconds": 1.0}  # fmt: skip
        for key, fill in bench.PER_PERSON.items():
            shape = {"keypoints2d": (17, 2), "keypoints3d": (17, 3), "boxes": (4,), "visible": (17,),
                     "contact": (2,)}.get(key, ())  # fmt: skip
            truth[key] = np.full((1, 6, *shape), fill)
        if zoom is not None:
            truth["frame_K"] = np.repeat(K[None], 6, axis=0)
            truth["frame_K"][:, 0, 0] *= zoom
            truth["frame_K"][:, 1, 1] *= zoom
        np.savez(folder / "truth.npz", **truth)
        folders[name] = folder
    monkeypatch.setattr(bench, "cached_people_render", lambda name, focal=None: folders[name])
    _, truth = bench.edited("still+zoom")
    fx = truth["frame_K"][:, 0, 0]
    np.testing.assert_allclose(fx, [100.0] * 6 + list(100.0 * np.linspace(1.0, 2.0, 6)))
