"""Bulk keyframe writing on Blender's actions: layered (4.4+; the only API on 5.0) and legacy (4.2, 4.3).

A layered action holds layers -> strips -> one channelbag per slot -> F-curves; every baked
datablock gets its own action with one slot, one layer and one keyframe strip. A legacy action
holds its F-curves and groups itself, with the same ``fcurves``/``groups`` interface as a
channelbag, so the bakers write to "the channelbag" either way (:func:`new_action`). Keys are
written from numpy in one call per F-curve (``keyframe_points.add(n)`` + ``foreach_set("co",
...)`` + ``update()``), never with ``keyframe_insert`` in a loop: a 24-bone, 10 000-frame bake
stays well under a second of key writing.

Frames are Blender scene frames (float); values are in the units of the animated property.
"""

from __future__ import annotations

from collections.abc import Sequence

import bpy
import numpy as np

# Kept importable from here: bakers and tests reach it as ``keys.continuous_quaternions``.
from anylift.geometry.transforms import continuous_quaternions  # noqa: F401

# Baked data has one key per frame; linear keys reproduce it exactly on frames and never overshoot
# between them (Bezier would, on noisy data).
_INTERPOLATION = {"CONSTANT": 0, "LINEAR": 1, "BEZIER": 2}

#: True when this Blender has layered actions (slots, layers, channelbags: 4.4+).
LAYERED_ACTIONS = "slots" in bpy.types.Action.bl_rna.properties


def _id_type(id_data: bpy.types.ID) -> str:
    return id_data.id_type if hasattr(id_data, "id_type") else type(id_data).__name__.upper()


def new_action(id_data: bpy.types.ID, name: str | None = None) -> bpy.types.ActionChannelbag:
    """Give ``id_data`` a fresh action (replacing any assigned one); return its channelbag.

    The action is named ``name`` (default ``"<id name>Action"``); a layered one gets one slot for
    ``id_data``, one layer and one keyframe strip (on 4.2/4.3 the legacy action itself is returned:
    it has the same ``fcurves``/``groups``). The action previously assigned, if any, is removed
    when nothing else uses it, so re-baking leaves no orphans.
    """
    anim = id_data.animation_data or id_data.animation_data_create()
    old = anim.action
    if old is not None:
        anim.action = None
        if old.users == 0:
            bpy.data.actions.remove(old)
    action = bpy.data.actions.new(name or f"{id_data.name}Action")
    if not LAYERED_ACTIONS:
        anim.action = action
        return action
    slot = action.slots.new(id_type=_id_type(id_data), name=id_data.name)
    strip = action.layers.new("Layer").strips.new(type="KEYFRAME")
    channelbag = strip.channelbag(slot, ensure=True)
    anim.action = action
    anim.action_slot = slot
    return channelbag


def channelbag_of(id_data: bpy.types.ID) -> bpy.types.ActionChannelbag | None:
    """The channelbag of ``id_data``'s assigned action and slot (4.2/4.3: the action), or None."""
    anim = id_data.animation_data
    if not LAYERED_ACTIONS:
        return None if anim is None else anim.action
    if anim is None or anim.action is None or anim.action_slot is None:
        return None
    from bpy_extras import anim_utils

    return anim_utils.action_get_channelbag_for_slot(anim.action, anim.action_slot)


def write_fcurve(
    channelbag: bpy.types.ActionChannelbag,
    data_path: str,
    index: int,
    frames: np.ndarray,
    values: np.ndarray,
    group: str | None = None,
    interpolation: str = "LINEAR",
) -> bpy.types.FCurve:
    """Write one F-curve in bulk, replacing an existing one with the same path and index.

    Args:
        frames: (T,) scene frames.
        values: (T,) values.
        group: F-curve group name (e.g. the bone name), created when missing.
    """
    frames = np.asarray(frames, dtype=np.float64).reshape(-1)
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if frames.shape != values.shape:
        raise ValueError(f"frames {frames.shape} and values {values.shape} differ in length")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"non-finite values for {data_path}[{index}]")
    old = channelbag.fcurves.find(data_path, index=index)
    if old is not None:
        channelbag.fcurves.remove(old)
    fcurve = channelbag.fcurves.new(data_path, index=index)
    if group:
        fcurve.group = channelbag.groups.get(group) or channelbag.groups.new(group)
    points = fcurve.keyframe_points
    points.add(len(frames))
    co = np.empty((len(frames), 2), dtype=np.float32)
    co[:, 0] = frames
    co[:, 1] = values
    points.foreach_set("co", co.ravel())
    points.foreach_set("interpolation", np.full(len(frames), _INTERPOLATION[interpolation], dtype=np.int32))
    fcurve.update()
    return fcurve


def write_channels(
    channelbag: bpy.types.ActionChannelbag,
    data_path: str,
    frames: np.ndarray,
    values: np.ndarray,
    group: str | None = None,
    indices: Sequence[int] | None = None,
) -> list[bpy.types.FCurve]:
    """Write every component of a vector property: ``values`` (T, C) -> C F-curves (index 0..C-1)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    indices = range(values.shape[1]) if indices is None else indices
    return [
        write_fcurve(channelbag, data_path, i, frames, values[:, c], group=group)
        for c, i in enumerate(indices)
    ]
