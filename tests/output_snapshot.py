"""A syrupy extension whose snapshots are the committed output/ tree itself: the snapshot named
`production/backend/deployment-backend-blue.yaml` is the file output/production/backend/deployment-backend-blue.yaml.

So the examples' golden output is stored once, where users read it, and `pytest --snapshot-update`
rewrites output/ (review it with `git diff output/`)."""

from __future__ import annotations

from pathlib import Path

from syrupy.data import Snapshot, SnapshotCollection, SnapshotCollections
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

OUTPUT = Path(__file__).resolve().parent.parent / "output"


class OutputTreeExtension(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "yaml"

    @classmethod
    def get_snapshot_name(cls, *, test_location, index=0) -> str:
        return str(index)  # the file's path below output/ (assert with `snapshot(name=path)`)

    @classmethod
    def get_location(cls, *, test_location, index) -> str:
        return str(OUTPUT / str(index))

    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(OUTPUT)

    @classmethod
    def discovery_dirname(cls, *, test_location) -> str:
        return str(OUTPUT)

    def discover_snapshots(self, *, test_location, ignore_extensions=None) -> SnapshotCollections:
        """Every file below output/ but the hidden ones: syrupy skips hidden files, not what a hidden
        directory holds, and output/.rollgen-cache/ is local knowledge that no test generates."""
        kept = SnapshotCollections()
        for collection in super().discover_snapshots(test_location=test_location,
                                                     ignore_extensions=ignore_extensions):
            if not any(part.startswith(".") for part in Path(collection.location).relative_to(OUTPUT).parts):
                kept.add(collection)
        return kept

    def read_snapshot_collection(self, *, snapshot_location: str) -> SnapshotCollection:
        collection = SnapshotCollection(location=snapshot_location)
        collection.add(Snapshot(name=Path(snapshot_location).relative_to(OUTPUT).as_posix()))
        return collection

    def read_snapshot_data_from_location(self, *, snapshot_location, snapshot_name, session_id):
        try:  # bytes as they are on disk: no newline translation
            return Path(snapshot_location).read_bytes().decode("utf-8")
        except FileNotFoundError:
            return None

    @classmethod
    def write_snapshot_collection(cls, *, snapshot_collection, name_order=None) -> None:
        path = Path(snapshot_collection.location)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(next(iter(snapshot_collection)).data.encode("utf-8"))
