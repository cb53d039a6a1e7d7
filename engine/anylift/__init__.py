"""AnyLift engine: monocular 2D keypoints + camera trajectory -> world-grounded 3D SMPL motion.

The engine never imports bpy; the Blender add-on (``anylift_blender``) is a thin layer over it.
"""

__version__ = "0.1.0"
