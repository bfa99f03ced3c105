"""Jobs: archive/restore of image folders (and, later, video transcoding)."""

from .archive import (ArchiveConfig, ArchiveSummary, RestoreConfig, archive, process_file,
                      restore)
from .manifest import MANIFEST_NAME, FileRecord, Manifest

__all__ = ["MANIFEST_NAME", "ArchiveConfig", "ArchiveSummary", "FileRecord", "Manifest",
           "RestoreConfig", "archive", "process_file", "restore"]
