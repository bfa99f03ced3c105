"""Jobs: archive, restore and verify folders of images (:mod:`.archive`, :mod:`.restore`,
workers in :mod:`.worker`, engines in :mod:`.engines`), video transcoding
(:mod:`.transcode`) and the ffmpeg pipe (:mod:`.stream`). Names load on first use."""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from .. import lazy_attribute

_WHERE = {
    "ArchiveSummary": "archive",
    "archive": "archive",
    "MANIFEST_NAME": "manifest",
    "FileRecord": "manifest",
    "Manifest": "manifest",
    "RebuildSummary": "rebuild",
    "rebuild": "rebuild",
    "RestoreConfig": "restore",
    "VerifySummary": "restore",
    "restore": "restore",
    "verify": "restore",
    "Choice": "target",
    "Target": "target",
    "choose": "target",
    "ArchiveConfig": "worker",
    "process_file": "worker",
}

if TYPE_CHECKING:
    from .archive import ArchiveSummary, archive
    from .manifest import MANIFEST_NAME, FileRecord, Manifest
    from .rebuild import RebuildSummary, rebuild
    from .restore import RestoreConfig, VerifySummary, restore, verify
    from .target import Choice, Target, choose
    from .worker import ArchiveConfig, process_file


def __getattr__(name: str) -> Any:
    value = lazy_attribute(__name__, _WHERE, name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """``archive``, ``rebuild`` and ``restore`` stay the functions when their submodules of the
    same names load (the import system sets the package's attribute to each submodule it
    loads), as when this package imported them eagerly."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("archive", "rebuild", "restore") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "ArchiveConfig",
    "ArchiveSummary",
    "Choice",
    "FileRecord",
    "MANIFEST_NAME",
    "Manifest",
    "RebuildSummary",
    "RestoreConfig",
    "Target",
    "VerifySummary",
    "archive",
    "choose",
    "process_file",
    "rebuild",
    "restore",
    "verify",
]
