"""What create_app wires together beyond the services: the sitemap reads public memos from the store."""
from __future__ import annotations

import pathlib

import apsw
import pytest
from starlette.testclient import TestClient
from support import make_profile

from memos.app import create_app


def _uids(db: pathlib.Path, visibility: str) -> set[str]:
    connection = apsw.Connection(str(db))
    try:
        return {uid for (uid,) in connection.execute("SELECT uid FROM memo WHERE visibility = ?", (visibility,))}
    finally:
        connection.close()


def test_sitemap_lists_every_public_memo_and_no_other(demo_data_dir: pathlib.Path) -> None:
    db = demo_data_dir / "memos_prod.db"
    public, hidden = _uids(db, "PUBLIC"), _uids(db, "PROTECTED") | _uids(db, "PRIVATE")
    assert public and hidden
    profile = make_profile(demo_data_dir, instance_url="https://demo.usememos.com/")
    with TestClient(create_app(profile)) as client:
        response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    for uid in public:
        assert f"<loc>https://demo.usememos.com/memos/{uid}</loc>" in response.text
    assert not any(f"/memos/{uid}<" in response.text for uid in hidden)
    assert response.text.count("<url>") == len(public)


def test_no_sitemap_without_an_instance_url(client: TestClient) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 404
    assert response.json() == {"message": "instance URL is not configured"}


@pytest.mark.anyio
async def test_the_app_through_httpx_asgi_transport(tmp_path: pathlib.Path) -> None:
    """httpx's own in-process transport (an independent ASGI client) sees both transports and their errors."""
    import gzip

    import httpx

    from memos.gen.api.v1 import instance_service_pb2 as api

    app = create_app(make_profile(tmp_path / "data"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://memos.test") as client:
            rest = await client.get("/api/v1/instance/settings/MEMO_RELATED")
            binary = await client.post(
                "/memos.api.v1.InstanceService/GetInstanceSetting",
                content=gzip.compress(api.GetInstanceSettingRequest(name="instance/settings/MEMO_RELATED").SerializeToString()),
                headers={"content-type": "application/proto", "content-encoding": "gzip", "accept-encoding": "gzip"},
            )
            refused = await client.get("/api/v1/users")
            unknown = await client.post("/memos.api.v1.InstanceService/Nope", json={})
            bad = await client.post("/memos.api.v1.InstanceService/GetInstanceSetting", json={"name": 5})
    assert rest.status_code == 200 and rest.json()["memoRelatedSetting"]["contentLengthLimit"] == 8192
    assert binary.status_code == 200 and binary.headers["content-encoding"] == "gzip"
    setting = api.InstanceSetting.FromString(binary.content)  # httpx undoes the gzip
    assert setting.memo_related_setting.content_length_limit == 8192
    assert (refused.status_code, refused.text) == (401, '{"code": 16, "message": "authentication required"}\n')
    assert (unknown.status_code, unknown.text) == (404, "404 page not found\n")  # as Go writes it
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_argument"


def test_optional_heavy_parts_are_not_loaded_at_start(tmp_path: pathlib.Path) -> None:
    """Idle memory matters on small machines: HTTP-client, crypto and Markdown stacks load only when needed."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from memos.app import create_app\n"
        "from memos.server import serve\n"
        "from memos.profile import Profile\n"
        f"create_app(Profile(data={str(tmp_path)!r}, dsn={str(tmp_path / 'memos_prod.db')!r}))\n"
        "heavy = ('httpx', 'jwt', 'cryptography', 'markdown_it', 'mdit_py_plugins', 'pygments', 'latex2mathml',\n"
        "         'memos.filter', 'memos.web.mcp', 'memos.web.mcp_tools', 'memos.web.rss')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
