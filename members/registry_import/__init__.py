"""The registry spreadsheet import: teams and their members from one sheet, all or nothing, idempotent.

The sheet has one row per member, with the team's columns repeated on each of its rows. Teams are
matched on (commune, hamlet, team name) and members on their canonical phone, so importing the same
file again changes nothing. Errors not tied to one row (an unreadable file, missing columns) are
reported on row 0, column "file".

The import reads in `parsing`, matches the rows to the registry in `planning`, writes in `writing`,
and runs as a job in `jobs`; this package exposes what the APIs, the task and the command use.
"""

from members.registry_import.jobs import (
    IMPORT_MAX_BYTES,
    import_job_create,
    import_job_processed,
    import_job_run,
    import_jobs_fail_stuck,
)
from members.registry_import.parsing import COLUMNS, REQUIRED_COLUMNS, parse_date, read_registry_rows
from members.registry_import.writing import RegistryImportResult, registry_import

__all__ = [
    "COLUMNS",
    "IMPORT_MAX_BYTES",
    "REQUIRED_COLUMNS",
    "RegistryImportResult",
    "import_job_create",
    "import_job_processed",
    "import_job_run",
    "import_jobs_fail_stuck",
    "parse_date",
    "read_registry_rows",
    "registry_import",
]
