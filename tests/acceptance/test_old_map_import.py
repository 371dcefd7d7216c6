"""The docs/examples file (old names, a divided ward) imported on the real maps, as docs/operations.md shows."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from areas.models import Commune, Hamlet
from teams.models import Team

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "so-dang-ky-to-dia-gioi-cu.csv"


@pytest.fixture
def maps():
    call_command("load_areas", stdout=StringIO(), stderr=StringIO())


def _import(*options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with translation.override("en"):
        call_command("import_registry", str(EXAMPLE), *options, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_example_file_lands_on_the_2025_map_through_the_crosswalk(maps):
    err = StringIO()
    with pytest.raises(CommandError, match="4 errors in 12 rows"), translation.override("en"):
        call_command("import_registry", str(EXAMPLE), stdout=StringIO(), stderr=err)
    reported = [line for line in err.getvalue().splitlines() if line.startswith("row ")]
    # The four rows of the divided ward Điện Biên, each with the wards it was divided between.
    assert [line.split(",")[0] for line in reported] == ["row 6", "row 7", "row 8", "row 9"]
    assert all("00004 Phường Ba Đình" in line and "00070 Phường Hoàn Kiếm" in line for line in reported)
    assert not Team.objects.exists()

    out, _ = _import("--accept-default-successor")
    assert out.count("default successor of divided commune 00019 Phường Điện Biên") == 4
    placed = {
        t.name: (t.commune.code, (t.hamlet.old_commune if t.hamlet else t.old_commune).code) for t in Team.objects.all()
    }
    assert placed == {
        "Tổ CNSCĐ Tổ dân phố số 1 Phúc Xá": ("00097", "00001"),  # Phúc Xá went whole into Hồng Hà
        "Tổ CNSCĐ Tổ dân phố số 3 Điện Biên": ("00004", "00019"),  # the default successor, flagged
        "Tổ CNSCĐ phường Kim Liên": ("00229", "00229"),  # by old code; a commune-level team keeps it
    }
    assert all(c.valid_to is None for c in Commune.objects.filter(teams__isnull=False))
    assert set(Hamlet.objects.values_list("old_commune_source", flat=True)) == {"import"}

    again, _ = _import("--accept-default-successor")
    assert "created 0 hamlets; teams: created 0, updated 0, unchanged 3" in again
