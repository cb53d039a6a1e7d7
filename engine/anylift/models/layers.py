"""Transformer pieces shared by the single- and multi-view denoisers."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoidal_embedding(positions: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Transformer sinusoidal features.

    Args:
        positions: (...,) float or long (frame indices or diffusion steps).
        dim: even feature size.

    Returns:
        (..., dim) float32: ``[cos(p f_i), sin(p f_i)]`` with geometric frequencies f_i.
    """
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=positions.device) / half)
    args = positions.float()[..., None] * freqs
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class StepEmbedding(nn.Module):
    """Diffusion step n -> (B, width): sinusoidal features then a 2-layer MLP."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, n: torch.Tensor) -> torch.Tensor:
        return self.mlp(sinusoidal_embedding(n, self.width))


class InputEmbedding(nn.Module):
    """Per-token features (noisy points + conditions) -> width, a 2-layer MLP."""

    def __init__(self, in_features: int, width: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_features, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)


class Attention(nn.Module):
    """Multi-head self-attention over the second-to-last axis of (N, L, width) tokens."""

    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, width = x.shape
        qkv = self.qkv(x).reshape(n, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        return self.dropout(self.out(y.transpose(1, 2).reshape(n, length, width)))


class FeedForward(nn.Module):
    def __init__(self, width: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(width, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, width),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MotionBlock(nn.Module):
    """One layer: temporal self-attention within each view, [cross-view attention], MLP (pre-norm).

    Tokens are (B, V, T, width). Cross-view attention attends across the V views at the same
    frame and has no view embedding, so the block is equivariant to permuting views.
    """

    def __init__(self, width: int, heads: int, ff_width: int, dropout: float, cross_view: bool) -> None:
        super().__init__()
        self.norm_t = nn.LayerNorm(width)
        self.attn_t = Attention(width, heads, dropout)
        self.cross_view = cross_view
        if cross_view:
            self.norm_v = nn.LayerNorm(width)
            self.attn_v = Attention(width, heads, dropout)
        self.norm_ff = nn.LayerNorm(width)
        self.ff = FeedForward(width, ff_width, dropout)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        b, v, t, d = h.shape
        flat = h.reshape(b * v, t, d)
        flat = flat + self.attn_t(self.norm_t(flat))
        h = flat.reshape(b, v, t, d)
        if self.cross_view:
            across = h.transpose(1, 2).reshape(b * t, v, d)
            across = across + self.attn_v(self.norm_v(across))
            h = across.reshape(b, t, v, d).transpose(1, 2)
        return h + self.ff(self.norm_ff(h))


class MotionTransformer(nn.Module):
    """Tokens (B, V, T, in_features) + steps (B,) -> (B, V, T, out_features).

    Input MLP, plus the step embedding and a sinusoidal frame encoding (shared by all views),
    then ``layers`` :class:`MotionBlock` s, a final LayerNorm and a linear head.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        layers: int,
        width: int,
        heads: int,
        ff_width: int,
        dropout: float,
        cross_view: bool,
    ) -> None:
        super().__init__()
        self.width = width
        self.embed = InputEmbedding(in_features, width)
        self.step = StepEmbedding(width)
        self.blocks = nn.ModuleList(
            MotionBlock(width, heads, ff_width, dropout, cross_view) for _ in range(layers)
        )
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, out_features)

    def forward(self, tokens: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        t = tokens.shape[2]
        frames = sinusoidal_embedding(torch.arange(t, device=tokens.device), self.width)
        h = self.embed(tokens) + frames + self.step(n)[:, None, None, :]
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h))
