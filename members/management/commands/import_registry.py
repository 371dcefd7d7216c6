"""manage.py import_registry FILE: load teams and their members from a registry sheet (CSV or XLSX)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from areas.old_units import OLD_COLUMNS, add_accept_default_argument
from config.errors import DomainError
from members.registry_import import COLUMNS, read_registry_rows, registry_import


class Command(BaseCommand):
    help = (
        "Import teams and members from a CSV or XLSX file with one row per member and the columns "
        + ", ".join(COLUMNS)
        + ". An empty hamlet_name means a commune-level team. Instead of commune_code a row may name its "
        "commune on the 2024 map: " + ", ".join(OLD_COLUMNS) + " (the code, or the names). All or nothing: "
        "any invalid row writes nothing. Importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
        add_accept_default_argument(parser)

    def handle(self, *args, file: Path, dry_run: bool, accept_default_successor: bool, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            _, rows = read_registry_rows(file.read_bytes(), file.name)
            rows = list(tqdm(rows, desc="reading", unit="row", file=self.stderr))
            with tqdm(total=len(rows), desc="checking", unit="row", file=self.stderr) as bar:
                result = registry_import(
                    rows=rows,
                    dry_run=dry_run,
                    progress=lambda done, _total: bar.update(done - bar.n),
                    accept_default=accept_default_successor,
                )
        except DomainError as exc:
            messages = [str(m) for ms in exc.fields.values() for m in ms] or [str(exc.message or exc.code)]
            raise CommandError("; ".join(messages)) from None
        if result.errors:
            for error in result.errors:
                self.stderr.write(f"row {error.row}, column {error.column}: {error.message}")
            raise CommandError(f"{len(result.errors)} errors in {result.rows} rows; nothing was written.")
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"row {warning.row}, column {warning.column}: {warning.message}"))
        verb = "would create" if dry_run else "created"
        self.stdout.write(
            f"{result.rows} rows: {verb} {result.hamlets_created} hamlets; "
            f"teams: {verb} {result.teams_created}, updated {result.teams_updated}, "
            f"unchanged {result.teams_unchanged}; members: {verb} {result.members_created}, "
            f"updated {result.members_updated}, moved {result.members_moved}, unchanged {result.members_unchanged}"
        )
