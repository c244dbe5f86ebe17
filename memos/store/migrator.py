"""Schema versions and the start-up migration procedure (same rules for every driver).

Migration files are package data: ``migration/<driver>/LATEST.sql`` is the
full current schema; upgrade steps go in ``migration/<driver>/<X.Y>/<NN>__<name>.sql``
and stand for version ``X.Y.(NN+1)``. The version is stamped in the BASIC
instance setting (``schemaVersion``).
"""
from __future__ import annotations

import dataclasses
import importlib.resources
import re
from importlib.resources.abc import Traversable

from memos.gen.store import instance_setting_pb2
from memos.store import codec
from memos.store.driver import Driver
from memos.store.errors import MigrationError
from memos.store.instance_setting import FindInstanceSetting, SystemSettingRow

# The schema LATEST.sql describes: Memos v0.30.0 stamps "0.30.1" (its newest
# migration file is 0.30/00__...).
LATEST_SCHEMA_VERSION = "0.30.1"
# Older than this, Memos itself refuses to upgrade in one step.
MINIMUM_UPGRADABLE_VERSION = "0.22.0"
# The oldest stored version our shipped upgrade files lead forward from. No
# upgrade files are shipped yet; lower this once the <X.Y>/<NN>__*.sql chain
# from 0.22 onwards is in the package.
UPGRADE_CHAIN_START = LATEST_SCHEMA_VERSION
LAST_VERSION_BEFORE_FLOOR = "0.25.3"

_FOLDER = re.compile(r"^(\d+)\.(\d+)$")
_FILE = re.compile(r"^(\d+)__[A-Za-z0-9_.-]+\.sql$")

Version = tuple[int, int, int]


def parse_version(text: str) -> Version:
    """'0.30.1' -> (0, 30, 1); an empty stamp counts as 0.0.0."""
    if not text.strip():
        return (0, 0, 0)
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", text.strip())
    if not match:
        raise MigrationError(f"the stored schema version {text!r} is not a valid version")
    major, minor, patch = (int(part) for part in match.groups())
    return (major, minor, patch)


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


@dataclasses.dataclass(frozen=True)
class UpgradeFile:
    version: Version
    path: str
    sql: str


def _migration_root(driver_name: str) -> Traversable:
    return importlib.resources.files("memos.store").joinpath("migration", driver_name)


def latest_schema(driver_name: str, root: Traversable | None = None) -> str:
    root = root or _migration_root(driver_name)
    return root.joinpath("LATEST.sql").read_text(encoding="utf-8")


def upgrade_files(driver_name: str, root: Traversable | None = None) -> list[UpgradeFile]:
    """All shipped upgrade steps of a driver, oldest first.

    ``root`` replaces the packaged ``migration/<driver>`` folder (tests use it).
    """
    found = []
    for folder in (root or _migration_root(driver_name)).iterdir():
        folder_match = _FOLDER.match(folder.name)
        if not folder_match or not folder.is_dir():
            continue
        for entry in folder.iterdir():
            file_match = _FILE.match(entry.name)
            if file_match:
                version = (int(folder_match[1]), int(folder_match[2]), int(file_match[1]) + 1)
                found.append(UpgradeFile(version, f"{folder.name}/{entry.name}", entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda step: (step.version, step.path))


def target_version(driver_name: str, root: Traversable | None = None) -> Version:
    """This build's schema version: the newest upgrade file, never below LATEST's."""
    return _newest(upgrade_files(driver_name, root))


def _newest(steps: list[UpgradeFile]) -> Version:
    return max([parse_version(LATEST_SCHEMA_VERSION), *(step.version for step in steps)])


def _too_old_message(current: Version, target: Version) -> str:
    return (
        "Your Memos installation is too old to upgrade directly.\n"
        f"Current schema version: {format_version(current)}\n"
        f"Target schema version: {format_version(target)}\n"
        f"The oldest version that can be upgraded directly is v{MINIMUM_UPGRADABLE_VERSION}.\n"
        f"Upgrade in steps: first start Memos v{LAST_VERSION_BEFORE_FLOOR} on this data so it migrates "
        "the database, then start this version."
    )


def _unsupported_upgrade_message(current: Version, target: Version) -> str:
    return (
        f"This build cannot yet upgrade a database from schema version {format_version(current)} "
        f"to {format_version(target)}. Upgrade the data with Memos v0.30 first (start it once on "
        "this data directory), then start this version."
    )


async def stored_basic_setting(driver: Driver) -> instance_setting_pb2.InstanceBasicSetting:
    rows = await driver.instance_settings.find(FindInstanceSetting(name="BASIC"))
    if not rows:
        return instance_setting_pb2.InstanceBasicSetting()
    return codec.decode_instance_setting("BASIC", rows[0].value).basic_setting


async def migrate(driver: Driver, root: Traversable | None = None) -> None:
    """Bring the database to this build's schema, or raise MigrationError having written nothing."""
    steps = upgrade_files(driver.name, root)  # read once: they give the target and the pending steps
    target = _newest(steps)
    if not await driver.is_initialised():
        await driver.enable_writes()
        stamp = instance_setting_pb2.InstanceBasicSetting(schema_version=format_version(target))
        await driver.create_schema(latest_schema(driver.name, root), SystemSettingRow("BASIC", codec.to_json(stamp)))
        return

    basic = await stored_basic_setting(driver)
    current = parse_version(basic.schema_version)
    if current < parse_version(MINIMUM_UPGRADABLE_VERSION):
        raise MigrationError(_too_old_message(current, target))
    if current > target:
        raise MigrationError(
            f"cannot downgrade schema version from {format_version(current)} to {format_version(target)}"
        )
    if current < parse_version(UPGRADE_CHAIN_START):
        raise MigrationError(_unsupported_upgrade_message(current, target))

    await driver.enable_writes()
    if current == target:
        return
    pending = [step.sql for step in steps if current < step.version <= target]
    await driver.apply_migrations(pending)
    basic.schema_version = format_version(target)
    await driver.instance_settings.upsert(SystemSettingRow("BASIC", codec.to_json(basic)))
