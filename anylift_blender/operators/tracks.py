"""Several people: the tracks of the keypoints file, drawn over the footage, picked, lifted.

- **Load Tracks** (``anylift.load_tracks``) reads every person of the scene's keypoints file
  (formats.md "Several people") into ``scene.anylift_tracks`` (id, frames, frames seen, mean
  height; the default person ticked) and, when the scene has the footage (``Import Video``),
  shows it behind the camera with the tracks drawn on (boxes, skeletons, ids; ``*`` marks the
  default person), written beside the keypoints as ``<stem>_tracks.mp4``. An edited video's cuts
  (formats.md, ``cuts``) become timeline markers named "AnyLift cut": no track crosses one, and a
  person of another shot needs that shot's camera (Estimate Camera's Person).
- **Lift Selected** (``anylift.lift_selected``) lifts every ticked person, one after the other,
  with ``anylift.lift(person=ID)``: each gets its own armature, named ``SMPL person <id>``.
  In background mode the lifts run synchronously; in the UI a timer starts the next one when
  the previous job has finished.
- The **People** panel (under AnyLift; registered in :mod:`anylift_blender.panels`) lists the
  tracks with a tick box each.
"""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import BoolProperty, CollectionProperty, FloatProperty, IntProperty

from .. import jobs
from ._common import file_error, scene_ready


class ANYLIFT_PG_track(bpy.types.PropertyGroup):
    """One tracked person of the keypoints file."""

    track_id: IntProperty(name="Id")
    first: IntProperty(name="First frame")
    last: IntProperty(name="Last frame")
    seen: IntProperty(name="Frames seen")
    height: FloatProperty(name="Height (px)")
    is_default: BoolProperty(name="Default")
    selected: BoolProperty(name="Lift", description="Lift this person", default=False)


def load_tracks(scene: bpy.types.Scene, path: str) -> int:
    """Fill ``scene.anylift_tracks`` from the keypoints file and mark its cuts (:func:`mark_cuts`);
    returns how many people it holds."""
    from anylift.io.people import read_people

    people = read_people(path)
    scene.anylift_tracks.clear()
    for tr in people.by_prominence():
        item = scene.anylift_tracks.add()
        item.name = f"person {tr.id}"
        item.track_id = tr.id
        item.first, item.last = tr.first_last
        item.seen = int(tr.seen.sum())
        item.height = tr.mean_height
        item.is_default = tr.id == people.default
        item.selected = item.is_default
    mark_cuts(scene, people.cuts)
    return len(people.tracks)


CUT_MARKER = "AnyLift cut"


def mark_cuts(scene: bpy.types.Scene, cuts) -> None:
    """Timeline markers at the frames (file frame ``c`` is scene frame ``FIRST_FRAME + c``) where the
    video cuts to another shot; the previous file's markers go."""
    from ..baking.result import FIRST_FRAME

    for marker in [m for m in scene.timeline_markers if m.name == CUT_MARKER]:
        scene.timeline_markers.remove(marker)
    for c in cuts:
        scene.timeline_markers.new(CUT_MARKER, frame=FIRST_FRAME + int(c))


def _footage(scene: bpy.types.Scene) -> str | None:
    clip = scene.active_clip
    if clip is None or not clip.filepath:
        return None
    path = bpy.path.abspath(clip.filepath)
    return path if Path(path).exists() else None


def show_tracks_over_footage(scene: bpy.types.Scene, keypoints: str) -> str | None:
    """Write ``<stem>_tracks.mp4`` (tracks drawn over the footage) and show it behind the camera."""
    from anylift.io.people import read_people
    from anylift.video.overlay import write_tracks_video

    from .import_video import show_clip_behind_camera

    video = _footage(scene)
    if video is None or scene.camera is None:
        return None
    out = Path(keypoints).with_name(Path(keypoints).stem + "_tracks.mp4")
    write_tracks_video(video, read_people(keypoints), out)
    clip = bpy.data.movieclips.load(str(out))
    clip.frame_start = 1
    show_clip_behind_camera(scene.camera, clip)
    return str(out)


class ANYLIFT_OT_load_tracks(bpy.types.Operator):
    """List every person of the keypoints file and draw their tracks over the footage"""

    bl_idname = "anylift.load_tracks"
    bl_label = "Load Tracks"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a set

    @classmethod
    def poll(cls, context):
        if not scene_ready(cls, context):
            return False
        if not context.scene.anylift.keypoints_path:
            cls.poll_message_set("No keypoints yet: detect or import 2D keypoints first")
            return False
        return True

    def execute(self, context):
        from anylift.errors import InputError

        scene = context.scene
        path = bpy.path.abspath(scene.anylift.keypoints_path)
        problem = file_error(path, "keypoints")
        if problem:
            self.report({"ERROR"}, problem)
            return {"CANCELLED"}
        try:
            count = load_tracks(scene, path)
            overlay = show_tracks_over_footage(scene, path)
        except InputError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        where = f"; drawn over the footage ({overlay})" if overlay else ""
        cuts = sum(m.name == CUT_MARKER for m in scene.timeline_markers)
        if cuts:
            where += f"; {cuts} cut{'s' if cuts != 1 else ''} to another shot marked on the timeline"
        self.report({"INFO"}, f"{count} people in {Path(path).name}{where}")
        return {"FINISHED"}


_queue: list[tuple[str, int]] = []  # (scene name, person id) still to lift in the UI


def _next_lift() -> float | None:
    """Timer: start the next queued lift once no job runs; stop when the queue is empty."""
    if not _queue:
        return None
    if jobs.is_running():
        return 0.5
    scene_name, person = _queue.pop(0)
    scene = bpy.data.scenes.get(scene_name)
    if scene is not None:
        with bpy.context.temp_override(scene=scene):
            bpy.ops.anylift.lift(person=person)
    return 0.5 if _queue else None


class ANYLIFT_OT_lift_selected(bpy.types.Operator):
    """Lift every ticked person: one armature each, named by track id"""

    bl_idname = "anylift.lift_selected"
    bl_label = "Lift Selected People"
    bl_options = {"REGISTER"}  # noqa: RUF012 - Blender reads a set

    @classmethod
    def poll(cls, context):
        if not scene_ready(cls, context):
            return False
        if not any(t.selected for t in context.scene.anylift_tracks):
            cls.poll_message_set("Tick the people to lift in the list (Load Tracks first)")
            return False
        if jobs.is_running() or _queue:
            cls.poll_message_set("A job is already running: wait for it or cancel it")
            return False
        return True

    def execute(self, context):
        scene = context.scene
        ids = [t.track_id for t in scene.anylift_tracks if t.selected]
        if bpy.app.background:
            for pid in ids:
                if "FINISHED" not in bpy.ops.anylift.lift(person=pid):
                    self.report({"ERROR"}, f"Lifting person {pid} failed")
                    return {"CANCELLED"}
            self.report({"INFO"}, f"Lifted {len(ids)} people: " + ", ".join(f"SMPL person {i}" for i in ids))
            return {"FINISHED"}
        _queue.extend((scene.name, pid) for pid in ids)
        bpy.app.timers.register(_next_lift, first_interval=0.1)
        self.report({"INFO"}, f"Lifting {len(ids)} people one after the other")
        return {"FINISHED"}


class ANYLIFT_UL_tracks(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index=0):
        row = layout.row(align=True)
        row.prop(item, "selected", text="")
        star = " *" if item.is_default else ""
        row.label(text=f"{item.track_id}{star}")
        row.label(text=f"{item.first}-{item.last}")
        row.label(text=f"{item.seen} fr")
        row.label(text=f"{item.height:.0f} px")


class ANYLIFT_PT_people(bpy.types.Panel):
    """Registered by :mod:`anylift_blender.panels` (after its parent panel)."""

    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "AnyLift"
    bl_label = "People"
    bl_parent_id = "ANYLIFT_PT_main"
    bl_options = {"DEFAULT_CLOSED"}  # noqa: RUF012 - Blender reads a set

    def draw(self, context):
        layout = self.layout
        scene = context.scene
        layout.operator("anylift.load_tracks", icon="OUTLINER_OB_ARMATURE")
        if len(scene.anylift_tracks):
            layout.label(text="id (* default), frames, seen, height")
            layout.template_list(
                "ANYLIFT_UL_tracks", "", scene, "anylift_tracks", scene, "anylift_track_index", rows=4
            )
            layout.operator("anylift.lift_selected", icon="PLAY")


classes = (ANYLIFT_PG_track, ANYLIFT_OT_load_tracks, ANYLIFT_OT_lift_selected, ANYLIFT_UL_tracks)


def register() -> None:
    bpy.types.Scene.anylift_tracks = CollectionProperty(type=ANYLIFT_PG_track)
    bpy.types.Scene.anylift_track_index = IntProperty(default=0)


def unregister() -> None:
    _queue.clear()
    if bpy.app.timers.is_registered(_next_lift):
        bpy.app.timers.unregister(_next_lift)
    for name in ("anylift_tracks", "anylift_track_index"):
        if hasattr(bpy.types.Scene, name):
            delattr(bpy.types.Scene, name)
