"""L-BFGS over torch parameters, driven by SciPy's L-BFGS-B (the fits' one optimiser).

``torch.optim`` pulls in ``torch._dynamo`` on its first use (seconds of import in every fresh
process, longer than a whole fit of a short clip), and SciPy's L-BFGS-B line search is the
reference implementation; the loss and its gradient still come from torch autograd.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import torch
from scipy.optimize import minimize

from anylift.progress import check_cancel


def gmof(residual2: torch.Tensor, sigma: float) -> torch.Tensor:
    """Geman-McClure of squared residuals (units^2 -> units^2, saturates at sigma^2)."""
    s2 = sigma * sigma
    return s2 * residual2 / (s2 + residual2)


def lbfgs(
    params: list[torch.Tensor],
    loss_fn: Callable[[], torch.Tensor],
    max_evaluations: int,
    *,
    scale: float = 1.0,
    cancel: threading.Event | None = None,
    on_evaluation: Callable[[int], None] | None = None,
) -> float:
    """Minimise ``loss_fn()`` over ``params`` in place (their ``.data``); returns the final loss.

    Args:
        params: leaf tensors (any shapes, one dtype); their values are the start.
        loss_fn: builds the scalar loss from the current ``params``.
        max_evaluations: loss + gradient evaluations at most.
        scale: the loss is multiplied by this for the optimiser (losses in m^2 are ~1e-6 near
            the optimum; scaled so the default tolerances do not stop it early).
        cancel: checked at every evaluation.
        on_evaluation: called with the number of evaluations done (progress).
    """
    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]
    dtype = params[0].dtype
    count = [0]
    best = [np.inf, None]

    def unpack(x: np.ndarray) -> None:
        for p, part, shape in zip(params, np.split(x, np.cumsum(sizes)[:-1]), shapes):
            p.data.copy_(torch.as_tensor(part.reshape(shape), dtype=dtype))

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        check_cancel(cancel)
        unpack(x)
        for p in params:
            p.grad = None
        loss = loss_fn() * scale
        loss.backward()
        grad = np.concatenate([np.zeros(n) if p.grad is None else p.grad.reshape(-1).double().numpy()
                               for p, n in zip(params, sizes)])  # fmt: skip
        value = float(loss.detach())
        count[0] += 1
        if on_evaluation is not None:
            on_evaluation(count[0])
        if not np.isfinite(value) or not np.isfinite(grad).all():
            return np.inf, np.zeros_like(grad)  # the line search backs off
        if value < best[0]:
            best[0], best[1] = value, x.copy()
        return value, grad

    x0 = np.concatenate([p.detach().reshape(-1).double().numpy() for p in params])
    minimize(
        fun, x0, jac=True, method="L-BFGS-B",
        options={"maxfun": int(max_evaluations), "maxiter": int(max_evaluations), "maxcor": 20,
                 "ftol": 1e-12, "gtol": 1e-9},
    )  # fmt: skip
    if best[1] is not None:
        unpack(best[1])
    return best[0] / scale
