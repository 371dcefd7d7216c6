"""The import-linter contracts in .importlinter hold for the tree, and fail on an import that breaks a floor."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _packages() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config["importlinter"]["root_packages"].split()


def _lint(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / ".importlinter")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of the project's packages and contracts, to break without touching the real tree."""
    for package in _packages():
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_the_tree_keeps_every_contract(tree):
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and " 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "names"),
    [
        ("teams/services.py", "from members.models import Member", "teams.services -> members.models"),
        ("accounts/models.py", "from areas.models import Province", "accounts.models -> areas.models"),
        ("members/services.py", "from activities.models import Activity", "members.services -> activities.models"),
        ("areas/selectors.py", "from coverage import selectors", "areas.selectors -> coverage"),
        ("teams/selectors.py", "from teams import apis", "teams.selectors -> teams.apis"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tree, module, line, names):
    path = tree / module
    path.write_text(path.read_text() + f"\n{line}\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert names in result.stdout, result.stdout
