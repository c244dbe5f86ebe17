"""AIService.Transcribe over REST and Connect against OpenAI- and Gemini-style provider apps on 127.0.0.1."""
from __future__ import annotations

import base64
import email.parser
import email.policy
import json
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from support import bearer, connect_call, create_user_row, free_port, serve_on_loopback, sign_in

from memos.api.ai_service import gemini_base_and_version, sniff_media_type
from memos.gen.api.v1 import ai_service_pb2 as api

TRANSCRIBE = "/api/v1/ai:transcribe"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], tuple[str, str, bytes] | None]:
    """(text fields, (filename, content type, bytes) of the ``file`` part) of a multipart/form-data body."""
    document = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict[str, str] = {}
    upload = None
    for part in document.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if name == "file":
            upload = (part.get_filename(), part.get_content_type(), payload)
        else:
            fields[name] = payload.decode()
    return fields, upload


class Provider:
    """One app answering both the OpenAI transcription route and Gemini's generateContent."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.openai_answer: JSONResponse = JSONResponse({"text": "hello from whisper"})
        self.gemini_answer: JSONResponse = JSONResponse(
            {"candidates": [{"finishReason": "STOP", "content": {"parts": [{"text": "  hello from gemini \n"}]}}]}
        )

    def app(self) -> Starlette:
        async def openai(request: Request) -> JSONResponse:
            fields, file = _parse_multipart(request.headers["content-type"], await request.body())
            self.calls.append({
                "path": request.url.path, "auth": request.headers.get("authorization"), "fields": fields, "file": file,
            })
            return self.openai_answer

        async def gemini(request: Request) -> JSONResponse:
            self.calls.append({"path": request.url.path, "key": request.headers.get("x-goog-api-key"),
                               "body": await request.json()})
            return self.gemini_answer

        return Starlette(routes=[
            Route("/v1/audio/transcriptions", openai, methods=["POST"]),
            Route("/{version}/models/{model}:generateContent", gemini, methods=["POST"]),
        ])


@pytest.fixture
def provider() -> Iterator[tuple[Provider, str]]:
    fake = Provider()
    with serve_on_loopback(fake.app()) as base:
        yield fake, base


class Setup:
    def __init__(self, client: TestClient) -> None:
        create_user_row(client, "root", role="ADMIN")
        create_user_row(client, "joe")
        self.client = client
        self.admin = bearer(sign_in(client, "root"))
        self.user = bearer(sign_in(client, "joe"))

    def configure(self, providers: list[dict], **transcription: str) -> None:
        setting: dict = {"providers": providers}
        if transcription:
            setting["transcription"] = transcription
        response = self.client.patch(
            "/api/v1/instance/settings/AI", headers=self.admin,
            json={"name": "instance/settings/AI", "aiSetting": setting},
        )
        assert response.status_code == 200, response.text

    def transcribe(self, audio: dict, headers: dict | None = None) -> object:
        return self.client.post(TRANSCRIBE, json={"audio": audio}, headers=self.user if headers is None else headers)


@pytest.fixture
def setup(client: TestClient) -> Setup:
    return Setup(client)


def _audio(content: bytes = WAV, **fields: str) -> dict:
    return {"content": base64.b64encode(content).decode(), **fields}


def test_openai_provider_gets_a_multipart_request(setup: Setup, provider: tuple[Provider, str]) -> None:
    fake, base = provider
    setup.configure([{"id": "oa", "title": "Local", "type": "OPENAI", "endpoint": f"{base}/v1/", "apiKey": "sk-test"}],
                    providerId="oa", language="de", prompt="names: Zoë")
    response = setup.transcribe(_audio(filename="note.wav", contentType="audio/wav"))
    assert response.status_code == 200, response.text
    assert response.json() == {"text": "hello from whisper"}
    [call] = fake.calls
    assert call["path"] == "/v1/audio/transcriptions" and call["auth"] == "Bearer sk-test"
    assert call["fields"] == {"model": "whisper-1", "response_format": "json", "language": "de", "prompt": "names: Zoë"}
    assert call["file"] == ("note.wav", "audio/wav", WAV)


def test_openai_over_connect_binary_with_a_sniffed_type_and_default_filename(
    setup: Setup, provider: tuple[Provider, str]
) -> None:
    fake, base = provider
    setup.configure([{"id": "oa", "title": "Local", "type": "OPENAI", "endpoint": f"{base}/v1", "apiKey": "k"}],
                    providerId="oa", model="my-model")
    answer = connect_call(setup.client, "/memos.api.v1.AIService/Transcribe",
                          api.TranscribeRequest(audio=api.TranscriptionAudio(content=WAV)),
                          api.TranscribeResponse, "proto", headers=setup.user)
    assert answer.text == "hello from whisper"
    [call] = fake.calls
    assert call["file"][:2] == ("audio", "audio/wav") and call["fields"]["model"] == "my-model"
    assert "language" not in call["fields"] and "prompt" not in call["fields"]


def test_gemini_provider_gets_inline_audio_and_hints(setup: Setup, provider: tuple[Provider, str]) -> None:
    fake, base = provider
    setup.configure([{"id": "g", "title": "Gemini", "type": "GEMINI", "endpoint": f"{base}/v1alpha", "apiKey": "gk"}],
                    providerId="g", language="fr")
    response = setup.transcribe(_audio(contentType="audio/x-wav; codecs=1"))
    assert response.status_code == 200, response.text
    assert response.json() == {"text": "hello from gemini"}
    [call] = fake.calls
    assert call["path"] == "/v1alpha/models/gemini-2.5-flash:generateContent" and call["key"] == "gk"
    [turn] = call["body"]["contents"]
    inline, text = turn["parts"]
    assert turn["role"] == "user"
    assert inline["inlineData"] == {"mimeType": "audio/wav", "data": base64.b64encode(WAV).decode()}
    assert "verbatim" in text["text"] and "fr" in text["text"]


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ({"candidates": [{"finishReason": "MAX_TOKENS", "content": {"parts": [{"text": "cut"}]}}]}, "finish"),
        ({"candidates": [{"finishReason": "STOP", "content": {"parts": [{"text": "   "}]}}]}, "empty"),
        ({"candidates": []}, "no candidates"),
    ],
)
def test_unusable_gemini_answers_are_internal(
    setup: Setup, provider: tuple[Provider, str], answer: dict, fragment: str
) -> None:
    fake, base = provider
    fake.gemini_answer = JSONResponse(answer)
    setup.configure([{"id": "g", "title": "G", "type": "GEMINI", "endpoint": base, "apiKey": "gk"}], providerId="g")
    response = setup.transcribe(_audio())
    assert response.status_code == 500
    message = response.json()["message"]
    assert message.startswith("failed to transcribe audio: ") and fragment in message
    assert fake.calls[0]["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"


def test_gemini_refuses_media_it_cannot_take_inline(setup: Setup, provider: tuple[Provider, str]) -> None:
    fake, base = provider
    setup.configure([{"id": "g", "title": "G", "type": "GEMINI", "endpoint": base, "apiKey": "gk"}], providerId="g")
    response = setup.transcribe(_audio(contentType="audio/mp4"))
    assert response.status_code == 500 and "audio/mp4" in response.json()["message"]
    assert fake.calls == []


def _unreachable_provider() -> dict[str, str]:
    """An OpenAI provider on a loopback port nothing listens on."""
    return {
        "id": "down",
        "title": "Down",
        "type": "OPENAI",
        "endpoint": f"http://127.0.0.1:{free_port()}/v1",
        "apiKey": "k",
    }


def test_failing_and_unreachable_providers(setup: Setup, provider: tuple[Provider, str]) -> None:
    fake, base = provider
    fake.openai_answer = JSONResponse({"error": {"message": "bad key"}}, status_code=401)
    setup.configure(
        [
            _unreachable_provider(),
            {"id": "oa", "title": "Up", "type": "OPENAI", "endpoint": f"{base}/v1", "apiKey": "k"},
        ],
        providerId="oa",
    )
    refused = setup.transcribe(_audio())
    assert refused.status_code == 500
    assert refused.json()["message"].startswith("failed to transcribe audio: provider answered HTTP 401")
    setup.configure([], providerId="")
    setup.configure([_unreachable_provider()], providerId="down")
    unreachable = setup.transcribe(_audio())
    assert unreachable.status_code == 500
    assert unreachable.json()["message"].startswith("failed to transcribe audio: provider request failed")


def test_not_configured(setup: Setup) -> None:
    response = setup.transcribe(_audio())
    assert response.status_code == 400
    assert response.json() == {"code": 9, "message": "transcription is not configured", "details": []}


def test_transcribe_needs_a_signed_in_caller(client: TestClient) -> None:
    response = client.post(TRANSCRIBE, json={"audio": _audio()})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        (None, "audio is required"),
        ({"uri": "https://example.com/a.wav"}, "audio uri is not supported"),
        ({"content": ""}, "audio content is required"),
        (_audio(filename="f" * 256), "filename is too long; maximum length is 255 characters"),
        (_audio(b"plain text, not audio"), 'audio content type "application/octet-stream" is not supported'),
        (_audio(contentType="text/plain"), 'audio content type "text/plain" is not supported'),
    ],
)
def test_request_checks_come_before_the_setting(setup: Setup, audio: dict | None, message: str) -> None:
    body = {} if audio is None else {"audio": audio}
    response = setup.client.post(TRANSCRIBE, json=body, headers=setup.user)
    assert response.status_code == 400
    assert response.json()["message"] == message


def test_oversized_audio_is_refused(setup: Setup) -> None:
    request = api.TranscribeRequest(audio=api.TranscriptionAudio(content=WAV + bytes(25 * 1024 * 1024)))
    response = setup.client.post(
        "/memos.api.v1.AIService/Transcribe",
        content=request.SerializeToString(),
        headers={"content-type": "application/proto", **setup.user},
    )
    assert response.status_code == 400
    assert json.loads(response.content)["message"] == "audio file is too large; maximum size is 25 MiB"


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (b"RIFF\0\0\0\0WAVE", "audio/wav"),
        (b"OggS\0", "audio/ogg"),
        (b"fLaC\0", "audio/flac"),
        (b"ID3\x04", "audio/mpeg"),
        (b"\xff\xfb\x90", "audio/mpeg"),
        (b"\xff\xf1\x50", "audio/aac"),
        (b"FORM\0\0\0\0AIFF", "audio/aiff"),
        (b"\x1a\x45\xdf\xa3", "video/webm"),
        (b"\0\0\0\x20ftypM4A ", "audio/mp4"),
        (b"\0\0\0\x20ftypisom", "video/mp4"),
        (b"hello", "application/octet-stream"),
    ],
)
def test_sniffing(head: bytes, media_type: str) -> None:
    assert sniff_media_type(head) == media_type


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("https://generativelanguage.googleapis.com/v1beta", ("https://generativelanguage.googleapis.com", "v1beta")),
        ("https://proxy.example/gemini/v1/", ("https://proxy.example/gemini", "v1")),
        ("https://proxy.example/gemini", ("https://proxy.example/gemini", "v1beta")),
    ],
)
def test_gemini_endpoint_version(endpoint: str, expected: tuple[str, str]) -> None:
    assert gemini_base_and_version(endpoint) == expected
