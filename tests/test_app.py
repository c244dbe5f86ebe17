"""What create_app wires together beyond the services: the sitemap reads public memos from the store."""
from __future__ import annotations

import pathlib

import apsw
from starlette.testclient import TestClient

from memos.app import create_app
from support import make_profile


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
