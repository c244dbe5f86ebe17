"""memos.api.v1.AIService: speech to text through the provider the instance AI setting names.

Every request check happens before the setting is read, so a rejected
request never reaches a provider. Provider failures of any kind are INTERNAL
``failed to transcribe audio: …``.
"""
from __future__ import annotations

import base64
import urllib.parse
from typing import Any

from memos.api.access import require_caller
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import ai_service_pb2 as api
from memos.gen.store import instance_setting_pb2 as store

MAX_AUDIO_BYTES = 25 * 1024 * 1024
MAX_FILENAME_BYTES = 255
GEMINI_MAX_INLINE_BYTES = 14 * 1024 * 1024
PROVIDER_TIMEOUT_SECONDS = 120.0

SUPPORTED_MEDIA_TYPES = frozenset(
    {
        "audio/aac", "audio/aiff", "audio/flac", "audio/x-flac", "audio/mpeg", "audio/mp3", "audio/mpga",
        "audio/mp4", "audio/x-m4a", "audio/ogg", "audio/wav", "audio/x-wav", "audio/webm",
        "video/mp4", "video/mpeg", "video/webm",
    }
)
DEFAULT_MODELS = {store.OPENAI: "whisper-1", store.GEMINI: "gemini-2.5-flash"}

# What Gemini accepts inline, by our media type.
_GEMINI_MEDIA_TYPES = {
    "audio/wav": "audio/wav", "audio/x-wav": "audio/wav",
    "audio/mpeg": "audio/mp3", "audio/mp3": "audio/mp3", "audio/mpga": "audio/mp3",
    "audio/aiff": "audio/aiff", "audio/aac": "audio/aac", "audio/ogg": "audio/ogg",
    "audio/flac": "audio/flac", "audio/x-flac": "audio/flac",
}
_GEMINI_VERSIONS = ("v1", "v1beta", "v1alpha")


class ProviderError(Exception):
    """The provider could not be used or gave no usable transcript."""


def sniff_media_type(data: bytes) -> str:
    """The audio/video type the leading bytes announce; ``application/octet-stream`` if none."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[:4] == b"OggS":
        return "audio/ogg"
    if data[:4] == b"fLaC":
        return "audio/flac"
    if data[:4] == b"FORM" and data[8:12] in (b"AIFF", b"AIFC"):
        return "audio/aiff"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06):
        return "audio/mpeg"  # an ID3 tag or an MPEG audio frame header (layer bits non-zero)
    if len(data) > 1 and data[0] == 0xFF and data[1] & 0xF6 == 0xF0:
        return "audio/aac"  # ADTS header (layer bits zero)
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    if data[4:8] == b"ftyp":
        return "audio/mp4" if data[8:11] == b"M4A" else "video/mp4"
    return "application/octet-stream"


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _check_audio(request: api.TranscribeRequest) -> tuple[bytes, str, str]:
    """(content, filename, media type) of an acceptable request, else INVALID_ARGUMENT."""
    if not request.HasField("audio"):
        raise RpcError(Code.INVALID_ARGUMENT, "audio is required")
    audio = request.audio
    if audio.WhichOneof("source") == "uri":
        raise RpcError(Code.INVALID_ARGUMENT, "audio uri is not supported")
    if not audio.content:
        raise RpcError(Code.INVALID_ARGUMENT, "audio content is required")
    if len(audio.content) > MAX_AUDIO_BYTES:
        raise RpcError(Code.INVALID_ARGUMENT, "audio file is too large; maximum size is 25 MiB")
    filename = audio.filename.strip()
    if len(filename.encode("utf-8")) > MAX_FILENAME_BYTES:
        raise RpcError(Code.INVALID_ARGUMENT, "filename is too long; maximum length is 255 characters")
    content_type = audio.content_type.strip() or sniff_media_type(audio.content)
    media_type = _media_type(content_type)
    if media_type not in SUPPORTED_MEDIA_TYPES:
        raise RpcError(Code.INVALID_ARGUMENT, f'audio content type "{content_type}" is not supported')
    return audio.content, filename, media_type


class AIService:
    SERVICE_NAME = "memos.api.v1.AIService"

    def __init__(self, store_: Any) -> None:
        self._store = store_

    async def Transcribe(self, request: api.TranscribeRequest, ctx: CallContext) -> api.TranscribeResponse:
        require_caller(ctx)
        content, filename, media_type = _check_audio(request)
        setting = (await self._store.get_instance_setting("AI")).ai_setting
        transcription = setting.transcription
        if not transcription.provider_id:
            raise RpcError(Code.FAILED_PRECONDITION, "transcription is not configured")
        provider = next((p for p in setting.providers if p.id == transcription.provider_id), None)
        if provider is None:
            raise RpcError(Code.FAILED_PRECONDITION, "transcription provider is not configured")
        try:
            text = await transcribe(provider, transcription, content, filename, media_type)
        except ProviderError as exc:
            raise RpcError(Code.INTERNAL, f"failed to transcribe audio: {exc}") from exc
        return api.TranscribeResponse(text=text)


async def transcribe(
    provider: store.AIProviderConfig,
    transcription: store.TranscriptionConfig,
    content: bytes,
    filename: str,
    media_type: str,
) -> str:
    """The transcript from ``provider``; ProviderError on any failure."""
    if not provider.api_key:
        raise ProviderError(f'provider "{provider.id}" has no API key')
    model = transcription.model or DEFAULT_MODELS.get(provider.type, "")
    if provider.type == store.OPENAI:
        return await _openai(provider, transcription, model, content, filename, media_type)
    if provider.type == store.GEMINI:
        return await _gemini(provider, transcription, model, content, media_type)
    raise ProviderError(f'provider "{provider.id}" has an unsupported type')


async def _post(url: str, **kwargs: Any) -> Any:
    """POST and decode a JSON answer; every failure becomes ProviderError."""
    import httpx  # only instances that transcribe pay for the import

    try:
        async with httpx.AsyncClient(timeout=PROVIDER_TIMEOUT_SECONDS) as client:
            response = await client.post(url, **kwargs)
    except httpx.HTTPError as exc:
        raise ProviderError(f"provider request failed: {type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise ProviderError(f"provider answered HTTP {response.status_code}: {response.text[:200].strip()}")
    try:
        return response.json()
    except ValueError as exc:
        raise ProviderError("provider answer is not JSON") from exc


async def _openai(
    provider: store.AIProviderConfig,
    transcription: store.TranscriptionConfig,
    model: str,
    content: bytes,
    filename: str,
    media_type: str,
) -> str:
    form = {"model": model, "response_format": "json"}
    if transcription.language:
        form["language"] = transcription.language
    if transcription.prompt:
        form["prompt"] = transcription.prompt
    answer = await _post(
        provider.endpoint.rstrip("/") + "/audio/transcriptions",
        headers={"Authorization": f"Bearer {provider.api_key}"},
        data=form,
        files={"file": (filename or "audio", content, media_type)},
    )
    text = answer.get("text") if isinstance(answer, dict) else None
    if not isinstance(text, str):
        raise ProviderError("provider answer has no text")
    return text


def gemini_base_and_version(endpoint: str) -> tuple[str, str]:
    """``https://host/v1beta`` -> (``https://host``, ``v1beta``); no version segment means v1beta."""
    parts = urllib.parse.urlsplit(endpoint.strip().rstrip("/"))
    path = parts.path.rstrip("/")
    head, _, last = path.rpartition("/")
    version = "v1beta"
    if last in _GEMINI_VERSIONS:
        version, path = last, head
    return urllib.parse.urlunsplit(parts._replace(path=path)).rstrip("/"), version


def _gemini_instruction(transcription: store.TranscriptionConfig) -> str:
    lines = ["Transcribe this audio verbatim. Reply with the transcript only, without comments or formatting."]
    if transcription.language:
        lines.append(f"The spoken language is {transcription.language}.")
    if transcription.prompt:
        lines.append(f"Context: {transcription.prompt}")
    return "\n".join(lines)


async def _gemini(
    provider: store.AIProviderConfig,
    transcription: store.TranscriptionConfig,
    model: str,
    content: bytes,
    media_type: str,
) -> str:
    inline_type = _GEMINI_MEDIA_TYPES.get(media_type)
    if inline_type is None:
        raise ProviderError(f"Gemini does not accept {media_type} audio; use WAV, MP3, AIFF, AAC, OGG or FLAC")
    if len(content) > GEMINI_MAX_INLINE_BYTES:
        raise ProviderError("audio is larger than the 14 MiB Gemini accepts inline")
    base, version = gemini_base_and_version(provider.endpoint)
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"inlineData": {"mimeType": inline_type, "data": base64.b64encode(content).decode("ascii")}},
                    {"text": _gemini_instruction(transcription)},
                ],
            }
        ]
    }
    answer = await _post(
        f"{base}/{version}/models/{urllib.parse.quote(model, safe='')}:generateContent",
        headers={"x-goog-api-key": provider.api_key},
        json=body,
    )
    return _gemini_text(answer)


def _gemini_text(answer: Any) -> str:
    candidates = answer.get("candidates") if isinstance(answer, dict) else None
    if not candidates or not isinstance(candidates[0], dict):
        raise ProviderError("provider answer has no candidates")
    first = candidates[0]
    if first.get("finishReason") != "STOP":
        raise ProviderError(f"transcription did not finish (finish reason {first.get('finishReason')!r})")
    parts = (first.get("content") or {}).get("parts") or []
    text = "".join(part.get("text", "") for part in parts if isinstance(part, dict)).strip()
    if not text:
        raise ProviderError("provider returned an empty transcript")
    return text
