"""GStreamer elements for mediapipe-irn.

The elements live in ``gst/python/`` and are loaded by GStreamer's Python plugin loader
(Debian: ``gstreamer1.0-python3-plugin-loader``), which runs the *system* Python. So the
loader can import ``mediapipe_irn`` and torch, ``print_env`` prints the variables to export:
``GST_PLUGIN_PATH`` (this package's ``gst`` folder), ``GST_REGISTRY`` (a registry file of our
own, not the user's), ``PYTHONPATH`` (this environment's site-packages) and ``PATH`` with the
system ``/usr/bin`` first (see ``SYSTEM_BIN``).
"""

from __future__ import annotations

import os
import site
import sys
from pathlib import Path

import mediapipe_irn

PLUGIN_PATH = Path(__file__).resolve().parent / "gst"
# The loader embeds the system libpython, which finds its prefix through the first python3 on
# PATH; inside an activated virtual environment that is the venv's, and the loader fails
# ("pygobject initialization failed"). Putting the system bin first avoids it.
SYSTEM_BIN = "/usr/bin"


def environment(registry: str | None = None) -> dict[str, str]:
    paths = [str(Path(mediapipe_irn.__file__).resolve().parents[1])]
    paths += site.getsitepackages()
    reg = registry or str(Path.home() / ".cache" / "mediapipe-irn" / "gst-registry.bin")
    return {
        "GST_PLUGIN_PATH": str(PLUGIN_PATH),
        "GST_REGISTRY": reg,
        "PYTHONPATH": ":".join(dict.fromkeys(paths)),
        "PATH": f"{SYSTEM_BIN}:{os.environ.get('PATH', '')}",
    }


def print_env() -> None:
    for k, v in environment(sys.argv[1] if len(sys.argv) > 1 else None).items():
        print(f"export {k}='{v}'")
