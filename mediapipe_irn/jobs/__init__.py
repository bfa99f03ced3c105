"""Jobs: archive, restore and verify folders of images (:mod:`.archive`, :mod:`.restore`,
workers in :mod:`.worker`, engines in :mod:`.engines`), video transcoding
(:mod:`.transcode`) and the ffmpeg pipe (:mod:`.stream`)."""

from .archive import ArchiveSummary, archive
from .manifest import MANIFEST_NAME, FileRecord, Manifest
from .restore import RestoreConfig, VerifySummary, restore, verify
from .target import Choice, Target, choose
from .worker import ArchiveConfig, process_file

__all__ = [
    "MANIFEST_NAME",
    "ArchiveConfig",
    "ArchiveSummary",
    "FileRecord",
    "Manifest",
    "RestoreConfig",
    "Choice",
    "Target",
    "choose",
    "VerifySummary",
    "archive",
    "process_file",
    "restore",
    "verify",
]
