"""Attachments in the browser: staging in the composer (picker, paste, drop, reorder, remove), the upload
on save and its errors, the card's gallery, preview and document rows, and the /attachments library
(frontend.md §17 BT17, BT18, BT37; E8-E14, M20-M24, L1-L5)."""
from __future__ import annotations

import base64
import re
import struct
import zlib
from typing import Any

from playwright.sync_api import expect
from ui_support import User, screenshot


def png(red: int, width: int = 24, height: int = 16) -> bytes:
    """A small valid PNG of one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([red, 80, 120]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def card(page: Any, text: str) -> Any:
    return page.locator("article.memo-card").filter(has_text=text)


def staged(page: Any) -> Any:
    return page.locator(".editor .att-row")


def pick_files(page: Any, files: list[dict[str, Any]]) -> None:
    page.get_by_role("button", name="Insert").first.click()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("menuitem", name="File").click()
    chooser.value.set_files(files)


def give_files(page: Any, event: str, files: list[tuple[str, str, bytes]]) -> None:
    """Dispatches a paste or drop event carrying `files` (name, type, bytes) at the composer."""
    payload = [{"name": name, "type": kind, "data": base64.b64encode(data).decode()} for name, kind, data in files]
    page.get_by_role("textbox", name="Memo text").evaluate("""(target, [event, files]) => {
        const transfer = new DataTransfer();
        for (const file of files) {
            const bytes = Uint8Array.from(atob(file.data), (c) => c.charCodeAt(0));
            transfer.items.add(new File([bytes], file.name, {type: file.type}));
        }
        const fired = event === 'paste'
            ? new ClipboardEvent('paste', {clipboardData: transfer, bubbles: true, cancelable: true})
            : new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true});
        target.dispatchEvent(fired);
    }""", [event, payload])


def test_bt17_two_pictures_from_the_picker_become_a_gallery_with_a_preview(signed_in: Any, user: User) -> None:
    page = signed_in
    page.get_by_role("textbox", name="Memo text").fill("bt17 two pictures")
    pick_files(page, [{"name": "first.png", "mimeType": "image/png", "buffer": png(200)},
                      {"name": "second.png", "mimeType": "image/png", "buffer": png(20)}])
    expect(staged(page)).to_have_count(2)
    expect(staged(page).nth(0)).to_contain_text("first.png")
    expect(staged(page).nth(1)).to_contain_text("second.png")
    page.get_by_role("button", name="Save").click()

    gallery = card(page, "bt17 two pictures").locator(".gallery")
    expect(gallery).to_have_class(re.compile(r"gallery-2"))
    expect(staged(page)).to_have_count(0)
    images = gallery.locator("img")
    expect(images).to_have_count(2)
    for index in range(2):
        source = images.nth(index).get_attribute("src") or ""
        assert re.fullmatch(r"/file/attachments/[^/]+/(first|second)\.png\?thumbnail=true", source), source
    expect(images.nth(0)).to_have_js_property("complete", True)
    assert images.nth(0).evaluate("img => img.naturalWidth") > 0
    stored = user.call("MemoService", "ListMemos", {"filter": 'content.contains("bt17")'})["memos"][0]
    assert [item["filename"] for item in stored["attachments"]] == ["first.png", "second.png"]

    gallery.get_by_role("button", name="Preview first.png").click()
    preview = page.get_by_role("dialog", name="Preview")
    expect(preview).to_be_visible()
    expect(preview.locator(".preview-count")).to_contain_text("1 / 2 · first.png")
    shown = preview.locator(".preview-stage img")
    expect(shown).to_have_attribute("src", re.compile(r"^/file/attachments/.+/first\.png$"))
    page.keyboard.press("ArrowRight")
    expect(preview.locator(".preview-count")).to_contain_text("2 / 2 · second.png")
    preview.get_by_role("button", name="Zoom in").click()
    expect(preview.locator(".preview-stage img")).to_have_attribute("style", re.compile(r"scale\(1\.5\)"))
    screenshot(page, "preview-light")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Preview")).to_have_count(0)


def test_bt18_a_pasted_image_and_a_dropped_pdf_are_staged_and_saved(signed_in: Any, user: User) -> None:
    page = signed_in
    page.get_by_role("textbox", name="Memo text").fill("bt18 pasted and dropped")
    give_files(page, "paste", [("pasted.png", "image/png", png(90))])
    give_files(page, "drop", [("report.pdf", "application/pdf", b"%PDF-1.4\n%bt18\n")])
    expect(staged(page)).to_have_count(2)
    expect(page.get_by_role("textbox", name="Memo text")).to_have_value("bt18 pasted and dropped")
    page.get_by_role("button", name="Save").click()

    saved = card(page, "bt18 pasted and dropped")
    expect(saved.locator(".gallery img")).to_have_count(1)
    document = saved.locator(".att-doc").get_by_role("link", name="report.pdf")
    expect(document).to_have_attribute("href", re.compile(r"^/file/attachments/[^/]+/report\.pdf$"))
    expect(document).to_have_attribute("download", "report.pdf")
    expect(saved.locator(".att-doc")).to_contain_text("PDF")
    body = page.request.get(document.get_attribute("href") or "").body()
    assert body == b"%PDF-1.4\n%bt18\n"


def test_staged_files_are_reordered_and_removed_before_saving(signed_in: Any, user: User) -> None:
    page = signed_in
    give_files(page, "paste", [(f"{name}.txt", "text/plain", name.encode()) for name in "abc"])
    expect(staged(page)).to_have_count(3)
    page.get_by_role("button", name="Move up: c.txt").click()
    page.get_by_role("button", name="Remove: a.txt").click()
    expect(staged(page).locator(".att-name")).to_have_text(["c.txt", "b.txt"])
    # A memo of attachments alone may be saved.
    save = page.get_by_role("button", name="Save")
    expect(save).to_be_enabled()
    save.click()
    expect(page.locator("article.memo-card .att-doc .att-name")).to_have_text(["c.txt", "b.txt"])
    stored = user.call("MemoService", "ListMemos", {})["memos"][0]
    assert [item["filename"] for item in stored["attachments"]] == ["c.txt", "b.txt"]


def test_an_upload_over_the_size_limit_shows_the_servers_message_and_keeps_the_draft(
        signed_in: Any, user: User, admin: User, watch: Any) -> None:
    page = signed_in
    name = "instance/settings/STORAGE"
    before = admin.call("InstanceService", "GetInstanceSetting", {"name": name})
    limited = {"name": name, "storageSetting": {**before["storageSetting"], "uploadSizeLimitMb": 1}}
    admin.call("InstanceService", "UpdateInstanceSetting", {"setting": limited, "updateMask": "storageSetting"})
    try:
        watch.expect(r"http 400: .*AttachmentService/CreateAttachment")
        watch.expect(r"console: Failed to load resource.*400")
        page.get_by_role("textbox", name="Memo text").fill("too big to keep")
        give_files(page, "drop", [("big.bin", "application/octet-stream", bytes(1024 * 1024 + 1))])
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".toast-error")).to_contain_text("file size exceeds the limit")
        expect(staged(page).filter(has_text="big.bin")).to_have_class(re.compile("failed"))
        expect(page.get_by_role("textbox", name="Memo text")).to_have_value("too big to keep")
        expect(page.locator("article.memo-card")).to_have_count(0)
    finally:
        admin.call("InstanceService", "UpdateInstanceSetting", {"setting": before, "updateMask": "storageSetting"})


def upload(user: User, filename: str, kind: str, data: bytes, memo: str = "") -> dict[str, Any]:
    attachment: dict[str, Any] = {"filename": filename, "type": kind, "content": base64.b64encode(data).decode()}
    if memo:
        attachment["memo"] = memo
    return user.call("AttachmentService", "CreateAttachment", {"attachment": attachment})


def test_bt37_the_library_lists_linked_files_by_kind_and_deletes_the_unused(signed_in: Any, user: User) -> None:
    page = signed_in
    memo = user.memo("bt37 memo with files")
    upload(user, "photo.png", "image/png", png(10), memo["name"])
    upload(user, "song.mp3", "audio/mpeg", b"ID3 not really", memo["name"])
    upload(user, "notes.pdf", "application/pdf", b"%PDF-1.4", memo["name"])
    upload(user, "loose.txt", "text/plain", b"nobody's")
    page.goto("/attachments")
    tabs = page.get_by_role("tab")
    expect(tabs).to_have_text(["Media (1)", "Audio (1)", "Documents (1)"])
    expect(page.locator(".unused-panel")).to_contain_text("Unused attachments: 1")
    expect(page.locator(".library-card")).to_have_count(1)
    expect(page.locator(".library-card")).to_contain_text("photo.png")
    screenshot(page, "attachments-light")
    page.get_by_role("tab", name="Documents (1)").click()
    expect(page.locator(".library-row")).to_contain_text("notes.pdf")
    expect(page.locator(".library-row").get_by_role("link", name="Memo")).to_have_attribute("href", f"/{memo['name']}")
    page.get_by_role("tab", name="Documents (1)").press("ArrowLeft")
    expect(page.get_by_role("tab", name="Audio (1)")).to_have_attribute("aria-selected", "true")
    expect(page.locator(".library-row audio")).to_have_count(1)

    page.get_by_role("button", name="Delete all unused").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete all unused").click()
    expect(page.locator(".unused-panel")).to_be_hidden()
    left = user.call("AttachmentService", "ListAttachments", {})["attachments"]
    assert sorted(item["filename"] for item in left) == ["notes.pdf", "photo.png", "song.mp3"]
