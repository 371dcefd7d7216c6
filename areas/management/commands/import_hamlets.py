"""manage.py import_hamlets FILE: bulk-load hamlets from CSV or XLSX, placed by current or old-map commune."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from areas.old_units import OLD_COLUMNS, add_accept_default_argument, location_columns_missing
from areas.services import hamlets_import
from config.errors import DomainError
from config.spreadsheets import SheetError, read_rows


class Command(BaseCommand):
    help = (
        "Import hamlets from a CSV or XLSX file with the columns name, kind and the hamlet's commune: "
        "commune_code (current), or old_commune_code (on the 2024 map), or old_commune, old_district, "
        "old_province (names on the 2024 map). All or nothing: any invalid row writes nothing. Importing the "
        "same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
        add_accept_default_argument(parser)

    def handle(self, *args, file: Path, dry_run: bool, accept_default_successor: bool, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            header, rows = read_rows(
                file.read_bytes(), file.name, ["name", "kind"], known=["commune_code", *OLD_COLUMNS]
            )
            if message := location_columns_missing(header):
                raise SheetError(message)
            rows = list(tqdm(rows, desc="rows", unit="row", file=self.stderr))
        except DomainError as exc:
            raise CommandError("; ".join(str(m) for ms in exc.fields.values() for m in ms)) from None
        result = hamlets_import(rows=rows, dry_run=dry_run, accept_default=accept_default_successor)
        if result.errors:
            for error in result.errors:
                self.stderr.write(f"row {error.row}, column {error.column}: {error.message}")
            raise CommandError(f"{len(result.errors)} errors in {result.rows} rows; nothing was written.")
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"row {warning.row}, column {warning.column}: {warning.message}"))
        verb = "would create" if dry_run else "created"
        self.stdout.write(
            f"{result.rows} rows: {verb} {result.created}, updated {result.updated}, unchanged {result.unchanged}"
            + (f"; {len(result.warnings)} rows placed in a default successor" if result.warnings else "")
        )
