"""Run a script on a new embedded (SQLite) database: the migrations, then `manage.py shell -c script`.

For what the embedded default does by itself (its row triggers), which the PostgreSQL suite cannot see.
"""

from __future__ import annotations

import os
import subprocess
import sys


def run_on_new_sqlite(tmp_path, script: str) -> str:
    """Migrate a new SQLite database under tmp_path, run the script against it, and return what it printed."""
    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_CACHE_URL")}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}", "DEBUG": "true"}
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "-v0"], ["shell", "-c", script]):
        done = subprocess.run(
            manage + command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout
