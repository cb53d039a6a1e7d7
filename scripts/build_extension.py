"""Build the installable Blender extension zip: ``python scripts/build_extension.py [--out DIR]``.

The zip holds ``blender_manifest.toml`` at its root next to the add-on's files (the contents of
``anylift_blender/``), plus ``lib/anylift/``: the engine package itself (no dependencies; one copy,
no wheel, which Blender would keep twice: the .whl and its installed files). The add-on appends
``lib`` to ``sys.path`` (:func:`anylift_blender.engine.add_bundled_engine`), so the light readers
(keypoints, cameras, results: numpy only, which Blender ships) import inside Blender. Torch-based
parts (lifting, the body model) run through the "Engine Python" preference (an interpreter where
the engine's dependencies are installed: the preferences' Set Up Engine button makes one).

Install: Blender > Edit > Preferences > Get Extensions > Install from Disk, or
``blender --command extension install-file -r user_default dist/anylift-<version>.zip``.
Check: ``blender --command extension validate dist/anylift-<version>.zip``.
Prints the path of the zip.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ADDON = REPO / "anylift_blender"
ENGINE = REPO / "engine" / "anylift"
EXCLUDE_PARTS = {"__pycache__"}


def _files(root: Path) -> list[Path]:
    return [
        p
        for p in sorted(root.rglob("*"))
        if p.is_file() and not EXCLUDE_PARTS & set(p.relative_to(root).parts) and p.suffix != ".pyc"
    ]


def build(out_dir: Path, with_engine: bool = True) -> Path:
    """Write ``out_dir/anylift-<version>.zip`` and return its path."""
    manifest_text = (REPO / "blender_manifest.toml").read_text()
    manifest = tomllib.loads(manifest_text)
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / f"{manifest['id']}-{manifest['version']}.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("blender_manifest.toml", manifest_text)
        for path in _files(ADDON):
            zf.write(path, path.relative_to(ADDON).as_posix())
        if with_engine:
            for path in _files(ENGINE):
                zf.write(path, f"lib/anylift/{path.relative_to(ENGINE).as_posix()}")
    return zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the AnyLift Blender extension zip.")
    parser.add_argument("--out", default=str(REPO / "dist"), help="output folder (default: dist/)")
    parser.add_argument("--no-engine", action="store_true", help="leave the bundled engine out")
    ns = parser.parse_args(argv)
    print(build(Path(ns.out), with_engine=not ns.no_engine))
    return 0


if __name__ == "__main__":
    sys.exit(main())
