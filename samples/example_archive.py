"""Archive a folder with the Python API, then list what the manifest recorded.

python samples/example_archive.py samples /tmp/archive
"""

from __future__ import annotations

import sys

from mediapipe_irn import ArchiveConfig, archive
from mediapipe_irn.jobs import MANIFEST_NAME, Manifest


def main() -> None:
    src = sys.argv[1] if len(sys.argv) > 1 else "samples"
    dest = sys.argv[2] if len(sys.argv) > 2 else "/tmp/mediapipe-irn-archive"
    summary = archive(src, dest, ArchiveConfig(model="sain-x2", quality=75, verify=True))
    print(
        f"{summary.done} archived, {summary.skipped_done} already done, "
        f"{summary.failed} failed; {summary.bytes_in} → {summary.bytes_out} bytes "
        f"(ratio {summary.ratio:.2f})"
    )
    with Manifest(f"{dest}/{MANIFEST_NAME}") as manifest:
        for rec in manifest.records():
            quality = f"{rec.psnr:.2f} dB" if rec.psnr is not None else rec.reason or ""
            print(f"{rec.status:<8} {rec.rel_path:<24} {rec.stored_bytes or 0:>8} B  {quality}")


if __name__ == "__main__":
    main()
