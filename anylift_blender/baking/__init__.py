"""Writing results into the scene: keys, armature, body mesh, camera, objects, keypoint overlays,
the uncertainty (bone colours and spreads keyed on the armature).

These modules take numpy arrays and plain options and touch ``bpy.data``; they never read files
and never report to the user (operators and the batch entry do that).
"""
