"""Training and evaluation data: mocap clips (:mod:`.mocap`), camera trajectories (:mod:`.trajectories`)."""
