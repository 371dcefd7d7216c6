"""The API contract's proof: the schema as gunicorn serves it, a client generated from it, and that client's use.

- `server` (session): gunicorn (2 workers) on a free port, on the pytest test database and the suite's Redis,
  as production runs it; stopped before the test database is dropped.
- `generation` (session): GET /api/schema/ from that server, then `openapi-python-client generate` with
  tests/contract/client-config.yaml, as a mobile team would run it; its exit code and every line it printed.
- `client_package` (session): the generated package (`cdt_client`), imported from its temporary directory;
  any generator warning fails every test that uses it.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from tests.served import BIN, Server, gunicorn_serving

CONFIG = Path(__file__).with_name("client-config.yaml")
PACKAGE = "cdt_client"


@pytest.fixture(scope="session")
def server(django_db_setup, tmp_path_factory) -> Iterator[Server]:
    """gunicorn (2 workers) serving config.wsgi on the test database (tests.served)."""
    with gunicorn_serving(tmp_path_factory, workers=2) as running:
        yield running


@dataclass
class Generation:
    schema_path: Path
    output_path: Path
    returncode: int
    output: str

    def complaints(self) -> list[str]:
        """Every line the generator printed besides "Generating <path>": warnings, errors, skipped hooks."""
        return [
            line
            for line in self.output.splitlines()
            if line.strip() and line.strip() != f"Generating {self.output_path}"
        ]

    def check(self) -> None:
        assert self.returncode == 0 and not self.complaints(), (
            f"openapi-python-client exited {self.returncode} on {self.schema_path}:\n{self.output[-6000:]}"
        )


def run_generator(schema_path: Path, output_path: Path) -> Generation:
    """`openapi-python-client generate` as a mobile team runs it, with this project's client-config.yaml."""
    result = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(schema_path),
            "--config",
            str(CONFIG),
            "--output-path",
            str(output_path),
            "--meta",
            "none",
            "--fail-on-warning",
        ],
        cwd=output_path.parent,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=180,
    )
    return Generation(
        schema_path=schema_path, output_path=output_path, returncode=result.returncode, output=result.stdout
    )


@pytest.fixture(scope="session")
def generation(server, tmp_path_factory) -> Generation:
    """The served schema (as a mobile team downloads it) and the generator's run on it."""
    workdir = tmp_path_factory.mktemp("contract")
    response = httpx.get(f"{server.url}/api/schema/", params={"format": "json"}, timeout=60)
    assert response.status_code == 200, (response.status_code, response.text[:2000])
    schema_path = workdir / "schema.json"
    schema_path.write_bytes(response.content)
    (workdir / "client").mkdir()
    return run_generator(schema_path, workdir / "client" / PACKAGE)


@pytest.fixture(scope="session")
def client_package(generation) -> Iterator[ModuleType]:
    """The generated package, importable as `cdt_client` for the session; fails on any generator warning."""
    generation.check()
    root = str(generation.output_path.parent)
    sys.path.insert(0, root)
    try:
        package = importlib.import_module(PACKAGE)
        for module in ("models", "types", "errors"):
            importlib.import_module(f"{PACKAGE}.{module}")
        yield package
    finally:
        sys.path.remove(root)
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


class Operations:
    """The generated operation modules by operationId, whatever tag (sub-package) each is under:
    `ops.list_teams.sync_detailed(client=...)`."""

    def __init__(self, package: ModuleType):
        api = importlib.import_module(f"{package.__name__}.api")
        self._modules = {
            info.name.rsplit(".", 1)[-1]: info.name
            for info in pkgutil.walk_packages(api.__path__, prefix=f"{api.__name__}.")
            if not info.ispkg
        }

    def __getattr__(self, operation_id: str) -> ModuleType:
        if operation_id.startswith("_"):
            raise AttributeError(operation_id)
        try:
            return importlib.import_module(self._modules[operation_id])
        except KeyError:
            raise AssertionError(
                f"the generated client has no operation {operation_id!r}; it has {sorted(self._modules)}"
            ) from None


@pytest.fixture(scope="session")
def ops(client_package) -> Operations:
    return Operations(client_package)
