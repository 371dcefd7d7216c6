"""Starting tasks by their registered name (config.celery.enqueue), in both modes, from any process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.conf import settings

from areas.changes import communes_changed
from areas.models import DirtyCommune
from config.celery import app, enqueue, registered_task

ROOT = Path(__file__).resolve().parents[2]

WEB_PROCESS = """
import json
from config.wsgi import application  # a web process: Django set up, no worker started
from config.celery import app, registered_task

before = sorted(name for name in app.tasks if not name.startswith("celery."))
found = registered_task("coverage.recompute_dirty").name
print(json.dumps({"before": before, "found": found}))
"""


def test_a_fresh_web_process_finds_a_task_that_nothing_imported():
    result = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS], cwd=ROOT, env=os.environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    # The trap the helper avoids: a web process registers only what some import happened to pull in.
    assert "coverage.recompute_dirty" not in seen["before"], seen["before"]
    assert seen["found"] == "coverage.recompute_dirty"


def test_an_unknown_task_name_fails_loudly():
    with pytest.raises(KeyError):
        registered_task("coverage.no_such_task")
    with pytest.raises(KeyError):
        enqueue("coverage.no_such_task")


def test_with_a_broker_enqueue_sends_one_message_with_its_countdown():
    queue = redis.Redis.from_url(settings.REDIS_URL)
    queue.delete("celery")
    assert app.conf.task_always_eager is False  # the suite runs with Redis: the production mode
    enqueue("coverage.sweep", countdown=7)
    messages = [json.loads(raw) for raw in queue.lrange("celery", 0, -1)]
    queue.delete("celery")
    assert [m["headers"]["task"] for m in messages] == ["coverage.sweep"]
    assert messages[0]["headers"]["eta"] is not None


@pytest.mark.django_db
def test_embedded_enqueue_runs_the_task_in_process(world):
    from coverage.models import CommuneFigures

    communes_changed([world.a1.pk])
    app.conf.task_always_eager = True
    try:
        enqueue("coverage.recompute_dirty")
    finally:
        app.conf.task_always_eager = False
    assert not DirtyCommune.objects.exists()
    assert CommuneFigures.objects.get(commune=world.a1).teams_active == 1
