"""gunicorn's master warms the application before forking its workers."""

from __future__ import annotations

import pytest

from gongzhi.config import warmup
from gongzhi.territory import geo


@pytest.mark.django_db
def test_warm_up_builds_the_grid_index_and_closes_connections(tree, monkeypatch):  # type: ignore[no-untyped-def]
    closed: list[bool] = []
    frozen: list[bool] = []
    monkeypatch.setattr(warmup.connections, "close_all", lambda: closed.append(True))
    monkeypatch.setattr(warmup.gc, "freeze", lambda: frozen.append(True))  # not the test process's objects
    geo.forget_grid_index()
    warmup.warm_up()
    assert closed == [True]  # the workers must not share the master's database connection
    assert frozen == [True]
    index = geo._index_cache["index"]
    assert index is not None and index.key == geo.grid_key()


def test_gunicorn_preloads_and_warms() -> None:
    from pathlib import Path

    conf = Path(warmup.__file__).with_name("gunicorn.conf.py")
    namespace: dict[str, object] = {}
    exec(compile(conf.read_text(), str(conf), "exec"), namespace)
    assert namespace["preload_app"] is True and callable(namespace["when_ready"])
