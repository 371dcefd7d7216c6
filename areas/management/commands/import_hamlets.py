"""manage.py import_hamlets FILE: bulk-load hamlets from CSV or XLSX (commune_code, name, kind)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from areas.services import hamlets_import
from config.errors import DomainError
from config.spreadsheets import read_rows


class Command(BaseCommand):
    help = (
        "Import hamlets from a CSV or XLSX file with the columns commune_code, name, kind. "
        "All or nothing: any invalid row writes nothing. Importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")

    def handle(self, *args, file: Path, dry_run: bool, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            _, rows = read_rows(file.read_bytes(), file.name, ["commune_code", "name", "kind"])
            rows = list(tqdm(rows, desc="rows", unit="row", file=self.stderr))
        except DomainError as exc:
            raise CommandError("; ".join(str(m) for ms in exc.fields.values() for m in ms)) from None
        result = hamlets_import(rows=rows, dry_run=dry_run)
        if result.errors:
            for error in result.errors:
                self.stderr.write(f"row {error.row}, column {error.column}: {error.message}")
            raise CommandError(f"{len(result.errors)} errors in {result.rows} rows; nothing was written.")
        verb = "would create" if dry_run else "created"
        self.stdout.write(
            f"{result.rows} rows: {verb} {result.created}, updated {result.updated}, unchanged {result.unchanged}"
        )
