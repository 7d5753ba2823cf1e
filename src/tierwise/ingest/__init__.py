"""Files and sources → validated canonical rows in the store, with a report for every row."""

from tierwise.ingest._columns import ColumnMap, UserMapping, detect_kind, map_columns
from tierwise.ingest._schema import KINDS, TABLES, Kind
from tierwise.ingest.importer import ImportOptions, OnDuplicate, file_sha256, import_file
from tierwise.ingest.report import ImportReport, RowError

__all__ = [
    "KINDS",
    "TABLES",
    "ColumnMap",
    "ImportOptions",
    "ImportReport",
    "Kind",
    "OnDuplicate",
    "RowError",
    "UserMapping",
    "detect_kind",
    "file_sha256",
    "import_file",
    "map_columns",
]
