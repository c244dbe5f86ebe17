"""Shared fixtures: a profile on a fresh data directory, the app in-process, the real server process."""
from __future__ import annotations

import pathlib
import sys
from collections.abc import Iterator

import pytest
from oauth2_provider import OAuth2Provider, serve_provider
from starlette.testclient import TestClient
from support import (
    CONTRACT_DIR,
    CONTRACT_MISSING,
    build_memos_demo_database,
    build_pyz,
    make_profile,
    running_in_ci,
    running_server,
)

from memos.gen.store.instance_setting_pb2 import StorageS3Config
from memos.profile import Profile


def pytest_configure(config: pytest.Config) -> None:
    """Under CI a missing contract ends the run before any test: its tests must not skip unnoticed."""
    if running_in_ci() and not CONTRACT_DIR.is_dir():
        raise pytest.UsageError(f"CI is set and {CONTRACT_MISSING}")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def profile(tmp_path: pathlib.Path) -> Profile:
    return make_profile(tmp_path / "data")


@pytest.fixture
def client(profile: Profile) -> Iterator[TestClient]:
    """The whole app in-process, lifespan included (the store is opened and closed)."""
    from memos.app import create_app

    with TestClient(create_app(profile), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def server_url(tmp_path: pathlib.Path) -> Iterator[str]:
    """`python -m memos` as a real process on an empty data directory."""
    with running_server([sys.executable, "-m", "memos"], tmp_path / "data") as url:
        yield url


@pytest.fixture(scope="session")
def built_pyz(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """memos.pyz built once for the whole session (tests that replay input against the built server)."""
    return build_pyz(tmp_path_factory.mktemp("dist") / "memos.pyz")


@pytest.fixture(scope="session")
def built_pyz_all(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """memos.pyz for every CPU and Python build_zipapp.py --all knows, built once for the session."""
    return build_pyz(tmp_path_factory.mktemp("dist-all") / "memos.pyz", "--all")


@pytest.fixture
def demo_data_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    """A data directory holding a copy of the Memos v0.30 demo database as memos_prod.db."""
    data_dir = tmp_path / "memos-demo"
    data_dir.mkdir()
    build_memos_demo_database(data_dir / "memos_prod.db")
    return data_dir


@pytest.fixture(scope="module")
def running_provider() -> Iterator[OAuth2Provider]:
    """The loopback OAuth2 provider, one per test module."""
    with serve_provider() as provider:
        yield provider


@pytest.fixture
def provider(running_provider: OAuth2Provider) -> Iterator[OAuth2Provider]:
    """The provider with its switches and issued codes reset for this test."""
    running_provider.reset()
    yield running_provider


@pytest.fixture
def world(tmp_path: pathlib.Path) -> Iterator[object]:
    """A public instance with users root (admin), alice and bob (see memo_support.World)."""
    from memo_support import memo_world

    yield from memo_world(tmp_path / "world")


@pytest.fixture(scope="session")
def s3_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StorageS3Config]:
    """moto's S3 server as a process on 127.0.0.1 for the whole session, with an empty bucket;
    the config addresses it path style. Shared: use keys of your own, and copy the config
    (``StorageS3Config().CopyFrom(...)``) before changing it."""
    from storage.s3_server import running_moto

    with running_moto(tmp_path_factory.mktemp("moto")) as config:
        yield config
