"""Helpers shared by the tests: profiles, free ports, the real server process, Connect calls, demo data."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gzip
import os
import pathlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

from memos.profile import Profile

if TYPE_CHECKING:
    from memos.store import Store

ROOT = pathlib.Path(__file__).resolve().parent.parent

# The Memos v0.30 contract listings: ../shared/contract beside the checkout, or where
# MEMOS_CONTRACT_DIR points. Read at test time, never copied into the project.
CONTRACT_DIR = pathlib.Path(os.environ.get("MEMOS_CONTRACT_DIR") or ROOT.parent / "shared" / "contract").resolve()
CONTRACT_MISSING = (
    f"the contract directory {CONTRACT_DIR} is missing: put the shared/ folder beside the checkout "
    "(../shared/contract) or set MEMOS_CONTRACT_DIR to the contract directory"
)


def running_in_ci() -> bool:
    """CI sets CI (usually to "true"); there every test must run, none may skip for want of data."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def contract_path(name: str = "") -> pathlib.Path:
    """The contract directory, or a file in it; skips the calling test when the directory is absent.

    Under CI the run has already failed at start-up (tests/conftest.py) when it is absent.
    """
    if not CONTRACT_DIR.is_dir():
        pytest.skip(CONTRACT_MISSING)
    return CONTRACT_DIR / name

M = TypeVar("M", bound=Message)


def load_builder() -> Any:
    """build_zipapp.py as a module (it sits outside the package, beside pyproject.toml)."""
    import importlib.util
    import sys

    module = sys.modules.get("build_zipapp")
    if module is None:
        spec = importlib.util.spec_from_file_location("build_zipapp", ROOT / "build_zipapp.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["build_zipapp"] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    return module


def make_profile(data_dir: pathlib.Path, **overrides: object) -> Profile:
    data_dir.mkdir(parents=True, exist_ok=True)
    fields = {"data": str(data_dir), "dsn": str(data_dir / "memos_prod.db"), **overrides}
    return Profile(**fields)  # type: ignore[arg-type]


def connect_call(client: httpx.Client, procedure: str, request: Message, response_type: type[M], codec: str,
                 *, gzip_request: bool = False, headers: dict[str, str] | None = None) -> M:
    """One Connect unary call over ``codec`` ("proto" or "json"); raises on a non-200 answer."""
    body = request.SerializeToString() if codec == "proto" else json_format.MessageToJson(request).encode()
    sent_headers = {"content-type": f"application/{codec}", **(headers or {})}
    if gzip_request:
        body = gzip.compress(body)
        sent_headers["content-encoding"] = "gzip"
    response = client.post(procedure, content=body, headers=sent_headers)
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.headers["content-type"] == f"application/{codec}"
    if codec == "proto":
        return response_type.FromString(response.content)
    return json_format.Parse(response.content, response_type())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen, timeout: float) -> None:
    """Ask a server to stop; kill it when it has not within timeout seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_health(base_url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    wait_until_answering(f"{base_url}/healthz", process, timeout)


def wait_until_answering(
    url: str, process: subprocess.Popen, timeout: float = 60.0, log: pathlib.Path | None = None
) -> None:
    """Until ``url`` answers 200; RuntimeError (with the process's log, if given) when it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            printed = f":\n{log.read_text(errors='replace')}" if log is not None else ""
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}{printed}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def running_server(command: list[str], data_dir: pathlib.Path, *extra: str, env: dict | None = None) -> Iterator[str]:
    """Start the real server process on a free loopback port; yield its base URL; stop it with SIGTERM."""
    port = free_port()
    process = subprocess.Popen(
        [*command, "--addr", "127.0.0.1", "--port", str(port), "--data", str(data_dir), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base_url, process)
        yield base_url
    finally:
        stop_process(process, timeout=15)
        process.stdout.close()
        process.stderr.close()


def build_pyz(output: pathlib.Path, *options: str) -> pathlib.Path:
    """Build memos.pyz with the project's own build script: for this machine, or as ``options`` say (--all)."""
    import sys

    done = subprocess.run(
        [sys.executable, str(ROOT / "build_zipapp.py"), "-o", str(output), *options],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return output


def build_memos_demo_database(db_path: pathlib.Path) -> None:
    """A Memos v0.30 data directory as Memos leaves it: v0.30 schema, BASIC stamp, the demo seed."""
    import apsw

    seed = contract_path("memos-v0.30-demo-seed.sql")
    schema = (ROOT / "memos" / "store" / "migration" / "sqlite" / "LATEST.sql").read_text()
    connection = apsw.Connection(str(db_path))
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        with connection:
            connection.execute(schema)
            connection.execute(
                "INSERT INTO system_setting (name, value, description) VALUES ('BASIC', ?, '')",
                ('{"schemaVersion":"0.30.1"}',),
            )
            connection.execute(seed.read_text())
    finally:
        connection.close()


# --- users and credentials (for tests of any service) ------------------------------------

# bcrypt of "pw" at cost 4: hashing at the real cost 10 for every test user would be slow,
# and any cost verifies the same way.
_HASHES: dict[str, str] = {}


def password_hash(password: str) -> str:
    """A bcrypt hash of ``password`` (cost 4, cached: test users are many)."""
    import bcrypt

    if password not in _HASHES:
        _HASHES[password] = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
    return _HASHES[password]


def create_user_row(target: object, username: str, role: str = "USER", password: str = "pw", **columns: object) -> int:
    """Insert a user straight into the database; returns its id.

    ``target`` is a TestClient of the app (its store is used), a Store, or the path
    of a SQLite file. Extra ``columns`` (email, nickname, row_status, ...) are set as given.
    """
    import asyncio

    from memos.store import CreateUser

    store = getattr(getattr(getattr(target, "app", None), "state", None), "store", None)
    if store is None and hasattr(target, "users"):
        store = target
    fields = {"username": username, "password_hash": password_hash(password), "role": role, **columns}
    if store is not None:
        portal = getattr(target, "portal", None)
        coro_fn = lambda: store.users.create(CreateUser(**fields))  # noqa: E731
        user = portal.call(coro_fn) if portal is not None else asyncio.run(coro_fn())
        return user.id
    import apsw

    connection = apsw.Connection(str(target))
    try:
        names = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        with connection:
            connection.execute(f"INSERT INTO user ({names}) VALUES ({marks})", tuple(fields.values()))
        return connection.last_insert_rowid()
    finally:
        connection.close()


def sqlite_rows(path: pathlib.Path, sql: str, args: tuple = ()) -> list[tuple]:
    """The rows of one query on a database file, read through a connection of its own."""
    import apsw

    connection = apsw.Connection(str(path))
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


def sign_in(client: httpx.Client, username: str, password: str = "pw") -> str:
    """Password sign-in over REST; returns the access token (fails the test on any error)."""
    credentials = {"username": username, "password": password}
    response = client.post("/api/v1/auth/signin", json={"passwordCredentials": credentials})
    assert response.status_code == 200, (response.status_code, response.text)
    return response.json()["accessToken"]


def bearer(token: str) -> dict[str, str]:
    """Request headers presenting ``token`` (access token or PAT)."""
    return {"Authorization": f"Bearer {token}"}


def refresh_token_entries(client: Any, user_id: int) -> list[Any]:
    """The user's stored REFRESH_TOKENS entries, read through the app's store (TestClient)."""
    store = client.app.state.store
    setting = client.portal.call(lambda: store.user_settings.get(user_id, "REFRESH_TOKENS"))
    return list(setting.refresh_tokens.refresh_tokens) if setting else []


def write_refresh_token_entries(client: Any, user_id: int, entries: list[Any]) -> None:
    """Replace the user's REFRESH_TOKENS entries through the app's store (TestClient)."""
    from memos.gen.store.user_setting_pb2 import UserSetting

    setting = UserSetting(user_id=user_id, key=UserSetting.REFRESH_TOKENS)
    setting.refresh_tokens.SetInParent()
    setting.refresh_tokens.refresh_tokens.extend(entries)
    store = client.app.state.store
    client.portal.call(lambda: store.user_settings.upsert(setting))


def connect_method(service: str, name: str, input_class: type, output_class: type):
    """connectrpc's description of one unary method of ours, for calling it without generated stubs."""
    from connectrpc.method import IdempotencyLevel, MethodInfo, StreamType

    return MethodInfo(
        name=name,
        service_name=service,
        input=input_class,
        output=output_class,
        idempotency_level=IdempotencyLevel.UNKNOWN,
        stream_type=StreamType.UNARY,
    )


def connect_peer(url: str, codec_name: str, gzip_requests: bool):
    """connectrpc's client: an independent Connect implementation to check ours against."""
    from connectrpc.client import ConnectClientSync
    from connectrpc.compat import google_protobuf_binary_codec, google_protobuf_json_codec
    from connectrpc.compression.gzip import GzipCompression

    codec = google_protobuf_binary_codec() if codec_name == "proto" else google_protobuf_json_codec()
    return ConnectClientSync(url, codec=codec, send_compression=GzipCompression() if gzip_requests else None)


API_SERVICES = (
    "AIService",
    "AttachmentService",
    "AuthService",
    "IdentityProviderService",
    "InstanceService",
    "MemoService",
    "ShortcutService",
    "UserService",
)


def all_procedures() -> list[str]:
    """Every RPC of memos.api.v1 as "/memos.api.v1.<Service>/<Method>", read from the compiled descriptors."""
    from google.protobuf import descriptor_pool

    from memos.app import load_api_descriptors

    load_api_descriptors()
    pool = descriptor_pool.Default()
    return [
        f"/memos.api.v1.{name}/{method.name}"
        for name in API_SERVICES
        for method in pool.FindServiceByName(f"memos.api.v1.{name}").methods
    ]


@dataclasses.dataclass
class LoopbackServer:
    """An ASGI app served by hypercorn on a loopback address in a thread of its own, with its own event loop."""

    url: str
    port: int
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Any, timeout: float = 10.0) -> Any:
        """Run ``coroutine`` on the server's loop; its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function: Any, *args: Any) -> Any:
        """Call a plain function on the server's loop (where the app's objects live); its result."""

        async def call() -> Any:
            return function(*args)

        return self.run(call())


@contextlib.contextmanager
def serve_app_in_thread(app: Any, host: str = "127.0.0.1") -> Iterator[LoopbackServer]:
    """Serve ``app`` (lifespan included) with hypercorn on ``host`` (loopback) in a thread; stop it on exit."""
    import threading

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    port = free_port()
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = None
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()

    async def run() -> None:
        started.set()
        await serve(app, config, shutdown_trigger=stop.wait)

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    started.wait(10)
    _wait_listening(port, host)
    try:
        yield LoopbackServer(f"http://{host}:{port}", port, loop)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
        loop.close()


@contextlib.contextmanager
def serve_on_loopback(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve a small ASGI app (a webhook receiver, a provider) with hypercorn on 127.0.0.1 in a thread;
    yield its base URL (``http://127.0.0.1:<port>``) while it is being served.

    ``host`` may name another loopback address (``127.0.0.2``): a test can then let the guard pass
    that one address and still refuse 127.0.0.1."""
    with serve_app_in_thread(app, host) as server:
        yield server.url


def _wait_listening(port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {host}:{port}")


def forge_jwt(claims: dict, key: bytes, header: dict | None = None) -> str:
    """An HS256 JWT made by hand (not by the code under test), for tokens the server must judge."""
    import base64
    import hashlib
    import hmac
    import json

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = f"{part(header or {'alg': 'HS256', 'kid': 'v1', 'typ': 'JWT'})}.{part(claims)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def sqlite_execute(path: pathlib.Path, sql: str) -> None:
    """Run one statement on a database file in a transaction of its own, as another program would."""
    import apsw

    connection = apsw.Connection(str(path))
    try:
        with connection:
            connection.execute(sql)
    finally:
        connection.close()


async def insert_memo(store: Store, uid: str, creator_id: int, *, created_ts: int, visibility: str = "PUBLIC",
                      row_status: str = "NORMAL", pinned: int = 0, payload: str = "{}",
                      comment_on: int | None = None) -> int:
    """Insert a memo row (and its COMMENT relation) straight into a started SQLite Store; its id.

    The row is added to the store's search index too, so content searches find it.
    """

    def insert(conn: Any) -> int:
        conn.execute(
            "INSERT INTO memo (uid, creator_id, created_ts, updated_ts, visibility, row_status, pinned,"
            " payload, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'text')",
            (uid, creator_id, created_ts, created_ts + 5, visibility, row_status, pinned, payload),
        )
        memo_id = conn.last_insert_rowid()
        if comment_on is not None:
            conn.execute("INSERT INTO memo_relation VALUES (?, ?, 'COMMENT')", (memo_id, comment_on))
        # As every memo write of the store does: content searches pre-filter through this index.
        store.driver.search.reindex(conn, [memo_id])  # type: ignore[attr-defined]
        return memo_id

    return await store.driver.run_write(insert)


def sample_identity_provider(uid: str, title: str = "Example SSO", secret: str = "s3cret") -> Any:
    """A store IdentityProvider (OAuth2) as an admin would configure one."""
    from memos.gen.store import idp_pb2

    return idp_pb2.IdentityProvider(
        uid=uid,
        name=title,
        type=idp_pb2.IdentityProvider.OAUTH2,
        identifier_filter="@example\\.com$",
        config=idp_pb2.IdentityProviderConfig(
            oauth2_config=idp_pb2.OAuth2Config(
                client_id="client",
                client_secret=secret,
                auth_url="https://sso.example.com/auth",
                token_url="https://sso.example.com/token",
                user_info_url="https://sso.example.com/userinfo",
                scopes=["openid", "email"],
                field_mapping=idp_pb2.FieldMapping(identifier="email", display_name="name"),
            )
        ),
    )


def socket_count(pid: int) -> int:
    """How many sockets the process ``pid`` holds open, from /proc."""
    count = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:")
    return count


class PyzServer:
    """The built memos.pyz running as a process on loopback, and what /proc says about it."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, data: pathlib.Path, log: pathlib.Path) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.data = data
        self.log = log

    def rss_kib(self) -> int:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def sockets(self) -> int:
        return socket_count(self.process.pid)

    def healthy(self) -> bool:
        response = httpx.get(f"{self.url}/healthz", timeout=5)
        return (response.status_code, response.text) == (200, "Service ready.")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)

    def create_owner(self, username: str, password: str) -> str:
        """The instance's first user (its admin), signed in: the access token."""
        with self.client() as client:
            created = client.post("/api/v1/users", json={"username": username, "password": password})
            assert created.status_code == 200, created.text
            credentials = {"passwordCredentials": {"username": username, "password": password}}
            signed_in = client.post("/api/v1/auth/signin", json=credentials)
            assert signed_in.status_code == 200, signed_in.text
            return str(signed_in.json()["accessToken"])


@contextlib.contextmanager
def start_pyz(pyz: pathlib.Path, tmp_path: pathlib.Path, **environ: str) -> Iterator[PyzServer]:
    """Start ``pyz`` on an empty data directory under ``tmp_path`` (its stderr in ``server.log``); stop it after."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEMOS_", "PYTHON"))}
    env.update(SHIV_ROOT=str(tmp_path / "shiv"), **environ)
    data, log = tmp_path / "data", tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, str(pyz), "--addr", "127.0.0.1", "--port", str(port), "--data", str(data)],
            stdout=subprocess.DEVNULL, stderr=sink, env=env, cwd=tmp_path,
        )
    server = PyzServer(process, port, data, log)
    try:
        wait_for_health(server.url, process)
        yield server
    finally:
        stop_process(process, timeout=20)


# Run inside a built memos.pyz (SHIV_INTERPRETER=1 ... -c THUMBNAIL_PROBE <folder>): memos's own thumbnail
# code on a JPEG, a PNG and a WebP, which proves the Pillow modules the build keeps are the ones it needs.
THUMBNAIL_PROBE = """
import io, pathlib, sys
from PIL import Image
from memos.storage.thumbnails import render_thumbnail
folder = pathlib.Path(sys.argv[-1])
for kind in ("JPEG", "PNG", "WEBP"):
    source = io.BytesIO()
    Image.new("RGB", (1200, 800), (200, 30, 30)).save(source, kind)
    source.seek(0)
    render_thumbnail(source, folder / (kind + ".jpg"))
    with Image.open(folder / (kind + ".jpg")) as thumbnail:
        print(kind, thumbnail.format, *thumbnail.size)
"""
THUMBNAIL_PROBE_OUTPUT = "JPEG JPEG 600 400\nPNG JPEG 600 400\nWEBP JPEG 600 400\n"


def tree_size(folder: pathlib.Path) -> int:
    """Bytes of the files unpacked under ``folder``, block rounding aside; the bytecode Python caches beside
    them as modules are first imported (about 2.3 MB once a server has run) is not counted."""
    return sum(
        path.stat().st_size for path in folder.rglob("*")
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts
    )
