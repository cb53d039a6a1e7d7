"""Build the installable Blender extension zip: ``python scripts/build_extension.py [--out DIR]``.

The zip holds ``blender_manifest.toml`` at its root next to the add-on's files (the contents of
``anylift_blender/``), plus ``wheels/anylift-*.whl``: the engine package alone (no dependencies),
so the light readers (keypoints, cameras, results: numpy only, which Blender ships) import inside
Blender. Torch-based parts (lifting, the body model) run through the "Engine Python" preference
(an interpreter where ``anylift`` and its dependencies are installed, e.g. this repo's .venv).

Install: Blender > Edit > Preferences > Get Extensions > Install from Disk, or
``blender --command extension install-file -r user_default dist/anylift-<version>.zip``.
Prints the path of the zip.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ADDON = REPO / "anylift_blender"
EXCLUDE_PARTS = {"__pycache__"}


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def engine_wheel(out_dir: Path) -> Path:
    """A wheel of the ``anylift`` engine only (the project wheel minus ``anylift_blender``)."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--no-build-isolation",
                "-q",
                "-w",
                tmp,
                str(REPO),
            ],
            check=True,
        )
        (built,) = Path(tmp).glob("anylift-*.whl")
        target = out_dir / built.name
        with zipfile.ZipFile(built) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
            record_name = next(n for n in src.namelist() if n.endswith(".dist-info/RECORD"))
            lines = []
            for name in src.namelist():
                if name.startswith("anylift_blender/") or name == record_name:
                    continue
                data = src.read(name)
                if name.endswith("top_level.txt"):
                    data = b"anylift\n"
                dst.writestr(name, data)
                lines.append(_record_line(name, data))
            dst.writestr(record_name, "\n".join([*lines, f"{record_name},,"]) + "\n")
    return target


def build(out_dir: Path, with_wheel: bool = True) -> Path:
    """Write ``out_dir/anylift-<version>.zip`` and return its path."""
    manifest_text = (REPO / "blender_manifest.toml").read_text()
    manifest = tomllib.loads(manifest_text)
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / f"{manifest['id']}-{manifest['version']}.zip"
    with tempfile.TemporaryDirectory() as tmp:
        wheel = engine_wheel(Path(tmp)) if with_wheel else None
        if wheel is not None:
            # A top-level key: it must come before the first table.
            manifest_text = manifest_text.replace(
                "\n[permissions]", f'\nwheels = ["./wheels/{wheel.name}"]\n\n[permissions]', 1
            )
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("blender_manifest.toml", manifest_text)
            for path in sorted(ADDON.rglob("*")):
                if path.is_file() and not EXCLUDE_PARTS & set(path.parts) and path.suffix != ".pyc":
                    zf.write(path, path.relative_to(ADDON).as_posix())
            if wheel is not None:
                zf.write(wheel, f"wheels/{wheel.name}")
    return zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the AnyLift Blender extension zip.")
    parser.add_argument("--out", default=str(REPO / "dist"), help="output folder (default: dist/)")
    parser.add_argument("--no-wheel", action="store_true", help="leave the engine wheel out")
    ns = parser.parse_args(argv)
    print(build(Path(ns.out), with_wheel=not ns.no_wheel))
    return 0


if __name__ == "__main__":
    sys.exit(main())
