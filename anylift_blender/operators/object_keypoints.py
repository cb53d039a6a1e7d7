"""Define Object Keypoints: pick a mesh's vertices as an object's keypoints, so any mesh can be an HOI object.

In edit mode, select the vertices in keypoint order (click them one by one: Blender keeps the
selection history) and run **Define Object Keypoints**. The keypoints are saved on the object's
mesh data (``mesh.anylift_keypoints``: category, names, vertex indices, positions in the mesh's
own coordinates), so every object using the mesh, and the Bake panel's *Object Mesh*, see them.

Two ways to relate the mesh to the lift's object frame (``mesh_to_canonical``, a similarity
saved with the keypoints):

- **Own frame** (default): the mesh's keypoints *are* the canonical keypoints. Export them
  (**Export Object Keypoints**) into the keypoints JSON as ``objects[].canonical``; the lift then
  returns poses of the mesh's own frame and the bake keys the mesh directly.
- **Align to category** (box, chair, table): the keypoints must be the category's, in its
  order; the similarity (rotation, translation, uniform scale) that best maps them onto the
  engine's template is saved, and the bake composes it with each result pose, so a scanned mesh
  in any position, orientation and unit lands where the category's template was fitted. Export
  then writes the mesh's keypoints mapped into the template frame (the object's true proportions).

Positions are read when the keypoints are defined; edit the mesh afterwards and define them again.
"""

from __future__ import annotations

import bmesh
import bpy
import numpy as np
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatVectorProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)
from bpy_extras.io_utils import ExportHelper

from ._common import file_error, report_failure, user_errors

CATEGORY_ITEMS = (
    ("custom", "Custom", "Any object: its own keypoints are the canonical ones"),
    ("box", "Box", "The engine's box: 8 corners"),
    ("chair", "Chair", "The engine's chair: 4 feet, 4 seat corners, 2 backrest corners"),
    ("table", "Table", "The engine's table: 4 feet, 4 top corners"),
)
_IDENTITY16 = tuple(np.eye(4).reshape(-1).tolist())


class ANYLIFT_PG_object_keypoint(bpy.types.PropertyGroup):
    """One keypoint: ``name`` (built in), the vertex and its position when defined."""

    vertex: IntProperty(name="Vertex", min=0)
    co: FloatVectorProperty(name="Position", size=3, subtype="XYZ", description="In the mesh's coordinates")


class ANYLIFT_PG_object_keypoints(bpy.types.PropertyGroup):
    """An HOI object's keypoints on a mesh."""

    category: StringProperty(name="Category", default="custom")
    keypoints: CollectionProperty(type=ANYLIFT_PG_object_keypoint)
    mesh_to_canonical: FloatVectorProperty(
        name="Mesh to Canonical",
        size=16,
        default=_IDENTITY16,
        description="Similarity (4x4, row-major) from the mesh's coordinates to the object's canonical frame",
    )


def _check_spans_plane(points: np.ndarray) -> None:
    """Raise ValueError when the (M, 3) points lie on one line."""
    from anylift.geometry.transforms import spans_plane

    if not spans_plane(points):
        raise ValueError("the keypoints lie on one line: pick at least 3 vertices that span a plane")


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(4, 4) least-squares similarity ``x -> s R x + t`` mapping ``source`` (M, 3) onto ``target`` (M, 3).

    Umeyama's solution via SVD; raises ValueError when the points lie on one line.
    """
    from anylift.geometry.transforms import similarity_align

    src = np.asarray(source, float)
    _check_spans_plane(src)
    scale, rot, shift = similarity_align(src, target)
    out = np.eye(4)
    out[:3, :3] = scale * rot
    out[:3, 3] = shift
    return out


def define_keypoints(
    mesh: bpy.types.Mesh,
    vertices: list[int],
    category: str = "custom",
    names: list[str] | None = None,
    align: bool = False,
) -> np.ndarray:
    """Save ``vertices`` (keypoint order) of ``mesh`` as its keypoints; returns ``mesh_to_canonical`` (4, 4).

    Args:
        category: ``custom`` or a built-in category (box, chair, table).
        names: one per vertex (default: the category's names when the counts match, else kp0, kp1...).
        align: align to the category's template (module docstring); needs a built-in category and
            its number of keypoints, in its order.

    Raises:
        ValueError: fewer than 3 vertices, repeated or out-of-range indices, bad names, or an
            alignment that cannot be made.
    """
    if len(vertices) < 3:
        raise ValueError(f"{len(vertices)} vertices picked: an object needs at least 3 keypoints")
    if len(set(vertices)) != len(vertices) or min(vertices) < 0 or max(vertices) >= len(mesh.vertices):
        raise ValueError("the picked vertices must be distinct vertices of the mesh")
    co = np.array([tuple(mesh.vertices[i].co) for i in vertices], dtype=np.float64)
    template = None
    if category != "custom":
        try:
            from anylift.object_templates import get_template
        except ImportError as exc:
            raise RuntimeError(
                f"the {category} template needs the anylift engine ({exc}); use Custom"
            ) from exc
        template = get_template(category)
    if names is None:
        if template is not None and template.num_keypoints == len(vertices):
            names = list(template.names)
        else:
            names = [f"kp{i}" for i in range(len(vertices))]
    if len(names) != len(vertices) or len(set(names)) != len(names) or not all(names):
        raise ValueError(
            f"{len(names)} names for {len(vertices)} keypoints: give one unique name per keypoint"
        )
    transform = np.eye(4)
    if align:
        if template is None:
            raise ValueError("Align to Category needs a box, chair or table category")
        if template.num_keypoints != len(vertices):
            raise ValueError(
                f"{len(vertices)} vertices picked but a {category} has {template.num_keypoints} keypoints "
                f"({', '.join(template.names)})"
            )
        transform = similarity_transform(co, template.canonical)
    else:
        _check_spans_plane(co)
    group = mesh.anylift_keypoints
    group.category = category
    group.keypoints.clear()
    for name, index, p in zip(names, vertices, co):
        item = group.keypoints.add()
        item.name = name
        item.vertex = int(index)
        item.co = tuple(p)
    group.mesh_to_canonical = tuple(transform.reshape(-1).tolist())
    return transform


def canonical_keypoints(mesh: bpy.types.Mesh) -> np.ndarray:
    """(M, 3) the mesh's keypoints in the object's canonical frame (``mesh_to_canonical`` applied)."""
    group = mesh.anylift_keypoints
    if len(group.keypoints) == 0:
        raise ValueError(f"mesh '{mesh.name}' has no object keypoints: run Define Object Keypoints first")
    co = np.array([tuple(k.co) for k in group.keypoints], dtype=np.float64)
    m = np.array(group.mesh_to_canonical, dtype=np.float64).reshape(4, 4)
    return co @ m[:3, :3].T + m[:3, 3]


def export_canonical(mesh: bpy.types.Mesh, path: str, object_name: str = "") -> str:
    """Write the mesh's canonical keypoints into an anylift keypoints JSON's object (atomically).

    The object is the one named ``object_name``, or the file's only object. Its category becomes
    the mesh's. Returns the object's name. Raises InputError / ValueError with the file named.
    """
    from anylift.errors import InputError
    from anylift.io.keypoints import read_keypoints, write_keypoints

    canonical = canonical_keypoints(mesh)
    kp = read_keypoints(path)
    if not kp.objects:
        raise InputError(
            "has no objects",
            path=path,
            field="objects",
            expected="the object's 2D keypoints track to attach canonical keypoints to",
        )
    if object_name:
        match = [o for o in kp.objects if o.name == object_name]
        if not match:
            raise InputError(
                f"has no object named {object_name!r}",
                path=path,
                field="objects[].name",
                expected="one of " + ", ".join(o.name for o in kp.objects),
            )
        track = match[0]
    elif len(kp.objects) == 1:
        track = kp.objects[0]
    else:
        raise InputError(
            f"has {len(kp.objects)} objects",
            path=path,
            field="objects",
            expected="an Object Name to choose one: " + ", ".join(o.name for o in kp.objects),
        )
    i = kp.objects.index(track)
    if track.keypoints.shape[1] != len(canonical):
        raise InputError(
            f"has {track.keypoints.shape[1]} keypoints per frame, mesh '{mesh.name}' {len(canonical)}",
            path=path,
            field=f"objects[{i}].keypoints",
            expected=f"{len(canonical)} keypoints",
        )
    track.canonical = canonical
    track.category = mesh.anylift_keypoints.category
    write_keypoints(path, kp)
    return track.name


def _picked_vertices(mesh: bpy.types.Mesh) -> tuple[list[int], bool]:
    """Selected vertices of a mesh in edit mode in click order; and whether the order is only by index."""
    bm = bmesh.from_edit_mesh(mesh)
    ordered = [e.index for e in bm.select_history if isinstance(e, bmesh.types.BMVert) and e.select]
    rest = [v.index for v in bm.verts if v.select and v.index not in set(ordered)]
    return ordered + rest, len(rest) > 0


class ANYLIFT_OT_define_object_keypoints(bpy.types.Operator):
    """Use the selected vertices, in the order they were selected, as this object's HOI keypoints"""

    bl_idname = "anylift.define_object_keypoints"
    bl_label = "Define Object Keypoints"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a set

    category: EnumProperty(name="Category", items=CATEGORY_ITEMS, default="custom")
    names: StringProperty(name="Names", description="Comma-separated keypoint names (empty: defaults)")
    align: BoolProperty(
        name="Align to Category",
        default=False,
        description="Place the mesh by aligning its keypoints to the category's template (box, chair, table)",
    )

    @classmethod
    def poll(cls, context):
        obj = context.active_object
        return obj is not None and obj.type == "MESH" and obj.mode == "EDIT"

    def invoke(self, context, event):
        return context.window_manager.invoke_props_dialog(self)

    def execute(self, context):
        obj = context.active_object
        mesh = obj.data
        obj.update_from_editmode()
        vertices, by_index = _picked_vertices(mesh)
        names = [n.strip() for n in self.names.split(",")] if self.names.strip() else None
        try:
            define_keypoints(mesh, vertices, self.category, names, self.align)
        except user_errors() as exc:
            return report_failure(self, exc)
        if by_index:
            self.report({"WARNING"}, "some vertices were not clicked one by one: they follow in index order")
        self.report({"INFO"}, f"{len(vertices)} keypoints saved on mesh '{mesh.name}'")
        return {"FINISHED"}


class ANYLIFT_OT_export_object_keypoints(bpy.types.Operator, ExportHelper):
    """Write the active mesh's object keypoints as `canonical` of an object in an AnyLift keypoints JSON"""

    bl_idname = "anylift.export_object_keypoints"
    bl_label = "Export Object Keypoints"
    bl_options = {"REGISTER"}  # noqa: RUF012 - Blender reads a set

    filename_ext = ".json"
    check_extension = True
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})
    object_name: StringProperty(
        name="Object Name", description="The object in the file (empty: its only one)"
    )

    @classmethod
    def poll(cls, context):
        obj = context.active_object
        return obj is not None and obj.type == "MESH" and len(obj.data.anylift_keypoints.keypoints) > 0

    def invoke(self, context, event):
        path = context.scene.anylift.keypoints_path
        if path:
            self.filepath = bpy.path.abspath(path)
        return super().invoke(context, event)

    def execute(self, context):
        path = bpy.path.abspath(self.filepath)
        problem = file_error(path, "keypoints")
        if problem:
            self.report({"ERROR"}, problem)
            return {"CANCELLED"}
        try:
            name = export_canonical(context.active_object.data, path, self.object_name)
        except user_errors() as exc:
            return report_failure(self, exc)
        self.report({"INFO"}, f"canonical keypoints of '{name}' written to {path}")
        return {"FINISHED"}


def draw_object_keypoints(layout, context) -> None:
    """Panel rows: the two operators and what the chosen Object Mesh holds (for panels.py)."""
    row = layout.row(align=True)
    row.operator(ANYLIFT_OT_define_object_keypoints.bl_idname, text="Define Keypoints", icon="VERTEXSEL")
    row.operator(ANYLIFT_OT_export_object_keypoints.bl_idname, text="Export", icon="EXPORT")
    mesh = getattr(context.scene.anylift, "object_mesh", None)
    if mesh is not None:
        group = mesh.anylift_keypoints
        text = (
            f"{len(group.keypoints)} keypoints ({group.category})" if len(group.keypoints) else "no keypoints"
        )
        layout.label(text=f"{mesh.name}: {text}", icon="MESH_DATA")


classes = (
    ANYLIFT_PG_object_keypoint,
    ANYLIFT_PG_object_keypoints,
    ANYLIFT_OT_define_object_keypoints,
    ANYLIFT_OT_export_object_keypoints,
)


def register() -> None:
    bpy.types.Mesh.anylift_keypoints = PointerProperty(type=ANYLIFT_PG_object_keypoints)


def unregister() -> None:
    if hasattr(bpy.types.Mesh, "anylift_keypoints"):
        del bpy.types.Mesh.anylift_keypoints
