"""A fake Telegram Bot API server for end-to-end tests with the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import itertools
import json
import logging
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import PurePosixPath
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    import pytest

__all__ = [
    "BOT_ID",
    "DEFAULT_USER_ID",
    "MAX_DOWNLOAD_SIZE",
    "MAX_MESSAGE_LENGTH",
    "PROXY_ENV_VARS",
    "TOKEN",
    "Call",
    "FakeApiError",
    "FakeTelegram",
    "UploadedFile",
    "no_proxy_env",
    "parse_html",
]

_LOGGER = logging.getLogger(__name__)

TOKEN = "123:ABC"
BOT_ID = 123
DEFAULT_USER_ID = 1001
MAX_MESSAGE_LENGTH = 4096  # Telegram's limit for text after entity parsing
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # getFile refuses bigger files ("file is too big")
MAX_CALLBACK_DATA = 64  # bytes, Telegram answers BUTTON_DATA_INVALID above it
MAX_LONG_POLL = 50.0  # Telegram caps getUpdates' timeout at 50 s

PROXY_ENV_VARS = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)

# Params whose values are plain strings: PTB sends strings un-encoded, so JSON-decoding them would
# turn a message text like "42" or "true" into a number or a boolean.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "file_id",
        "language_code",
        "next_offset",
        "description",
        "short_description",
        "name",
        "title",
        "emoji",
        "business_connection_id",
        "message_effect_id",
        "question",
        "explanation",
    }
)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def _default_description(status: int) -> str:
    """Telegram-style description for an injected error without one."""
    known = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden: bot was blocked by the user",
        404: "Not Found",
        409: _CONFLICT_POLL,
        500: "Internal Server Error",
        502: "Bad Gateway",
    }
    if status in known:
        return known[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Strip proxy env vars so HTTP clients (httpx trusts env) talk to 127.0.0.1 directly."""
    for name in PROXY_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    # Belt and braces: anything that still finds a proxy setting must bypass it for local hosts.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


class FakeApiError(Exception):
    """An error answer: HTTP status plus Telegram's description and optional parameters."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram would send for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str) -> FakeApiError:
    """A 400 with Telegram's "Bad Request: ..." wording."""
    return FakeApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part received by the fake."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Call:
    """One recorded request; status/result/error are filled in once it has been answered."""

    method: str
    params: dict[str, Any]
    timestamp: float
    files: dict[str, UploadedFile] = field(default_factory=dict)
    http_method: str = "POST"
    status: int | None = None
    result: Any = None
    error: str | None = None

    def get(self, name: str, default: Any = None) -> Any:
        """A parameter's (decoded) value, or default."""
        return self.params.get(name, default)

    @property
    def ok(self) -> bool:
        """Whether the fake answered with a 2xx."""
        return self.status is not None and 200 <= self.status < 300


@dataclass
class _StoredFile:
    """A file known to getFile and the download endpoint."""

    file_id: str
    file_unique_id: str
    file_path: str
    file_size: int
    data: bytes | None

    def as_api(self, *, with_path: bool = True) -> dict[str, Any]:
        """The File object returned by getFile."""
        result: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if with_path:
            result["file_path"] = self.file_path
        return result


@dataclass
class _Fault:
    """A queued failure for fail_next."""

    status: int
    description: str
    parameters: dict[str, Any] | None
    remaining: int
    chat_id: str | None = None  # only calls to this chat, when set


class _Waiter:
    """One pending long poll; woken on new updates, a competing poll or shutdown."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.reason: str | None = None  # "conflict" or "stop"; None means "re-check updates"


# ---------------------------------------------------------------------------------------------
# HTML parse_mode: validated and turned into entities like Telegram does, because unescaped
# "<" / "&" in quoted documents is a classic "can't parse entities" production failure.
# ---------------------------------------------------------------------------------------------

_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[^<>]*?)?)\s*(/?)>")
_CHAR_REF_RE = re.compile(r"&(#[xX][0-9A-Fa-f]+|#[0-9]+|[A-Za-z]+);")
_ATTR_RE = re.compile(r"""([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _parse_attrs(raw: str) -> dict[str, str]:
    """Attributes of an HTML start tag."""
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(raw):
        value = next((g for g in match.groups()[1:] if g is not None), "")
        attrs[match.group(1).lower()] = _CHAR_REF_RE.sub(_decode_char_ref, value)
    return attrs


def _decode_char_ref(match: re.Match[str]) -> str:
    """Decode &lt; &gt; &amp; &quot; and numeric references; leave other names as text."""
    ref = match.group(1)
    if ref.startswith(("#x", "#X")):
        return chr(int(ref[2:], 16))
    if ref.startswith("#"):
        return chr(int(ref[1:]))
    return _NAMED_REFS.get(ref, match.group(0))


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into (plain text, entities) or raise a 400 like Telegram."""
    out: list[str] = []
    pos = 0  # UTF-16 offset into the produced text
    stack: list[tuple[str, dict[str, str], int]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "<":
            byte_offset = len(source[:i].encode())
            match = _TAG_RE.match(source, i)
            if match is None:
                raise _bad_request(
                    f"can't parse entities: Unsupported start tag at byte offset {byte_offset}"
                )
            closing, name, raw_attrs, _self_closing = match.groups()
            name = name.lower()
            attrs = _parse_attrs(raw_attrs)
            if name not in _HTML_ENTITY_TYPES or (
                name == "span" and not closing and attrs.get("class") != "tg-spoiler"
            ):
                raise _bad_request(
                    f'can\'t parse entities: Unsupported start tag "{name}" '
                    f"at byte offset {byte_offset}"
                )
            if not closing:
                stack.append((name, attrs, pos))
            else:
                if not stack or stack[-1][0] != name:
                    expected = f'"</{stack[-1][0]}>"' if stack else "no end tag"
                    raise _bad_request(
                        f"can't parse entities: Unmatched end tag at byte offset {byte_offset}, "
                        f'expected {expected}, found "</{name}>"'
                    )
                _, start_attrs, start = stack.pop()
                entity = _html_entity(name, start_attrs, start, pos - start, stack)
                if entity is not None:
                    entities.append(entity)
            i = match.end()
            continue
        if char == "&":
            ref = _CHAR_REF_RE.match(source, i)
            if ref is not None:
                decoded = _decode_char_ref(ref)
                out.append(decoded)
                pos += _utf16_len(decoded)
                i = ref.end()
                continue
            # Telegram tolerates a bare "&", so the fake does too.
        out.append(char)
        pos += _utf16_len(char)
        i += 1
    if stack:
        raise _bad_request(
            "can't parse entities: Can't find end tag corresponding to start tag "
            f'"{stack[-1][0]}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _html_entity(
    name: str,
    attrs: dict[str, str],
    offset: int,
    length: int,
    stack: list[tuple[str, dict[str, str], int]],
) -> dict[str, Any] | None:
    """The MessageEntity for a closed tag, or None when Telegram would not emit one."""
    if length <= 0:
        return None
    if name == "code" and stack and stack[-1][0] == "pre":
        # <pre><code class="language-x"> is one pre entity carrying the language.
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][1]["language"] = language.removeprefix("language-")
        return None
    entity: dict[str, Any] = {"type": _HTML_ENTITY_TYPES[name], "offset": offset, "length": length}
    if name == "a":
        if not attrs.get("href"):
            return None
        entity["url"] = attrs["href"]
    elif name == "pre" and attrs.get("language"):
        entity["language"] = attrs["language"]
    elif name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif name == "tg-emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    return entity


def _decode_param(name: str, value: Any) -> Any:
    """JSON-decode a form value where PTB JSON-encoded it (non-string params)."""
    if not isinstance(value, str) or name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channel", file ids


def _as_int(value: Any, name: str) -> int:
    """An integer parameter, or Telegram's 400 for a malformed one."""
    if isinstance(value, bool):
        raise _bad_request(f"invalid {name} specified")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    raise _bad_request(f"invalid {name} specified")


def _strip_reply(message: dict[str, Any]) -> dict[str, Any]:
    """A message copy usable as reply_to_message (Telegram does not nest replies further)."""
    quoted = copy.deepcopy(message)
    quoted.pop("reply_to_message", None)
    return quoted


class FakeTelegram:
    """In-process fake of the Bot API served over real HTTP from a background thread.

    State (updates, messages, files, faults) is shared between the server thread and the test and
    guarded by one lock; everything returned to tests is a deep copy.
    """

    def __init__(
        self,
        token: str = TOKEN,
        *,
        first_name: str = "Acuerdo Test Bot",
        username: str = "acuerdo_test_bot",
        host: str = "127.0.0.1",
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = False,
    ) -> None:
        """Configure the bot identity; nothing listens until start()."""
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }
        self._me = {
            **self.bot_user,
            "can_join_groups": can_join_groups,
            "can_read_all_group_messages": can_read_all_group_messages,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.host = host
        self._lock = threading.RLock()
        self._calls_changed = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._port: int | None = None
        self._ids = itertools.count(1)  # unique suffixes for callback/inline/file ids
        self._methods: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "deleteWebhook": self._delete_webhook,
                "setWebhook": self._set_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "answerInlineQuery": self._answer_inline_query,
                "sendChatAction": self._send_chat_action,
                "deleteMessage": self._delete_message,
                "getFile": self._get_file,
                "getChatMember": self._get_chat_member,
                "getChatAdministrators": self._get_chat_administrators,
                "close": self._close,
                "logOut": self._log_out,
            }.items()
        }
        self._methods["getupdates"] = ("getUpdates", self._unused_sync_handler)
        # Long polls pending on the server loop; only touched from that loop.
        self._waiters: set[_Waiter] = set()
        self._reset_state()

    def _reset_state(self) -> None:
        """(Re)initialise all Bot API state except the identity and the recorded calls."""
        with self._lock:
            self._calls: list[Call] = []
            self._updates: list[dict[str, Any]] = []
            self._next_update_id = 10_000
            self._allowed_updates: list[str] | None = None
            self._webhook: dict[str, Any] = {}
            self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
            self._chats: dict[int, dict[str, Any]] = {}
            self._next_message_id: dict[int, int] = {}
            self._messages: dict[tuple[int, int], dict[str, Any]] = {}
            self._inline_messages: dict[str, dict[str, Any]] = {}
            self._callback_ids: set[str] = set()
            self._callback_answers: dict[str, dict[str, Any]] = {}
            self._inline_ids: set[str] = set()
            self._inline_answers: dict[str, dict[str, Any]] = {}
            self._files: dict[str, _StoredFile] = {}
            self._files_by_path: dict[str, _StoredFile] = {}
            self._faults: dict[str, list[_Fault]] = {}
            self._delays: dict[str, float] = {}
            self._custom: dict[str, Callable[[dict[str, Any]], Any]] = {}
            self._blocked: set[int] = set()
            self._admins: dict[int, set[int]] = {}
            self._down = False
            self._down_status = 502
            self._down_hang = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        """Start serving on a free port of 127.0.0.1 in a daemon thread; returns self."""
        if self._thread is not None:
            raise RuntimeError("FakeTelegram already started")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(
            target=self._run_loop, args=(loop, ready), name="fake-telegram", daemon=True
        )
        thread.start()
        ready.wait()
        self._loop, self._thread = loop, thread
        try:
            asyncio.run_coroutine_threadsafe(self._serve(), loop).result(timeout=10)
        except BaseException:
            self._stop_loop()
            raise
        return self

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        """Thread body: own the loop until stop() stops it."""
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()

    async def _serve(self) -> None:
        """Build the aiohttp app and bind it (runs in the server loop)."""
        self._stopping = asyncio.Event()
        # Uploads up to Telegram's 50 MB; aiohttp's default body limit is only 1 MiB.
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_route)
        # handler_cancellation: a long poll whose client went away must not linger; the short
        # shutdown_timeout keeps stop() fast even if something still hangs.
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            handler_cancellation=True,
            shutdown_timeout=1.0,
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner

    async def _shutdown(self) -> None:
        """Release long polls and hung requests, then close the server (server loop)."""
        if self._stopping is not None:
            self._stopping.set()
        self._wake_waiters("stop")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def stop(self) -> None:
        """Stop the server and its thread; safe to call twice."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        self._stop_loop()

    def _stop_loop(self) -> None:
        """Stop and close the server loop and join its thread."""
        loop, thread = self._loop, self._thread
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)
        if loop is not None and not loop.is_running():
            loop.close()
        self._loop = self._thread = None
        self._port = None

    def __enter__(self) -> FakeTelegram:
        """Start on entering the with-block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving the with-block."""
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port the fake listens on."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        """Server root, e.g. http://127.0.0.1:PORT."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ApplicationBuilder().base_url(): PTB appends "{token}/{method}"."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ApplicationBuilder().base_file_url(): PTB appends "{token}/{file_path}"."""
        return f"{self.url}/file/bot"

    # -- recorded calls --------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded requests in arrival order, optionally of one method (case-insensitive)."""
        with self._lock:
            if method is None:
                return list(self._calls)
            wanted = method.lower()
            return [c for c in self._calls if c.method.lower() == wanted]

    def clear(self) -> None:
        """Forget recorded calls (state such as messages and updates is kept)."""
        with self._lock:
            self._calls.clear()

    def reset(self) -> None:
        """Forget everything: calls, updates, messages, files, webhook, commands and faults."""
        self._wake_waiters("stop")
        self._reset_state()

    def _matching(self, method: str, predicate: Callable[[Call], bool] | None) -> list[Call]:
        """Recorded calls of method that satisfy predicate (caller holds the lock)."""
        wanted = method.lower()
        return [
            c
            for c in self._calls
            if c.method.lower() == wanted and (predicate is None or predicate(c))
        ]

    def _timeout_error(self, method: str, count: int, timeout: float) -> TimeoutError:
        """A TimeoutError that lists what was recorded, to make failures debuggable."""
        with self._lock:
            seen = [f"{c.method}({c.status})" for c in self._calls]
        return TimeoutError(
            f"no {count} matching {method} call(s) within {timeout}s; recorded: {seen}"
        )

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10.0,
        count: int = 1,
    ) -> list[Call]:
        """Block (thread-safe) until count matching calls exist; return all matching calls.

        Blocks the calling thread: from async tests use await_call() instead, or PTB running
        on the same loop would stall.
        """
        deadline = time.monotonic() + timeout
        with self._calls_changed:
            while True:
                found = self._matching(method, predicate)
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._calls_changed.wait(remaining)
        raise self._timeout_error(method, count, timeout)

    async def await_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10.0,
        count: int = 1,
    ) -> list[Call]:
        """Async wait_for: polls with asyncio.sleep so the caller's event loop keeps running."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = self._matching(method, predicate)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise self._timeout_error(method, count, timeout)
            await asyncio.sleep(0.01)

    # -- inspection of Bot API state ---------------------------------------------------------

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._lock:
            return copy.deepcopy(self._updates)

    def messages(
        self, chat_id: int | None = None, *, from_bot: bool = True
    ) -> list[dict[str, Any]]:
        """Current (edited, not deleted) messages, by default only the bot's, oldest first."""
        with self._lock:
            found = [
                m
                for (cid, _), m in self._messages.items()
                if (chat_id is None or cid == chat_id)
                and (not from_bot or m.get("from", {}).get("id") == self.bot_id)
            ]
            found.sort(key=lambda m: m["_seq"])
            return [copy.deepcopy(self._public(m)) for m in found]

    def last_message(self, chat_id: int | None = None) -> dict[str, Any] | None:
        """The bot's most recently sent message that still exists, or None."""
        with self._lock:
            candidates = [
                m
                for (cid, _), m in self._messages.items()
                if (chat_id is None or cid == chat_id)
                and m.get("from", {}).get("id") == self.bot_id
            ]
            if not candidates:
                return None
            return copy.deepcopy(self._public(max(candidates, key=lambda m: m["_seq"])))

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Raw `text` params of successful sendMessage calls (markup included), oldest first."""
        return [
            c.params.get("text", "")
            for c in self.calls("sendMessage")
            if c.ok and (chat_id is None or c.result["chat"]["id"] == chat_id)
        ]

    def inline_message(self, inline_message_id: str) -> dict[str, Any] | None:
        """Text/markup last set on an inline message via the edit methods."""
        with self._lock:
            found = self._inline_messages.get(inline_message_id)
            return copy.deepcopy(found)

    def callback_answers(self) -> dict[str, dict[str, Any]]:
        """answerCallbackQuery params by callback_query_id."""
        with self._lock:
            return copy.deepcopy(self._callback_answers)

    def inline_answers(self) -> dict[str, dict[str, Any]]:
        """answerInlineQuery params (results decoded) by inline_query_id."""
        with self._lock:
            return copy.deepcopy(self._inline_answers)

    def webhook(self) -> dict[str, Any]:
        """The webhook set by setWebhook (url, secret_token, ...); empty when none."""
        with self._lock:
            return copy.deepcopy(self._webhook)

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]] | None:
        """Commands set for a scope/language, or None if never set."""
        with self._lock:
            found = self._commands.get(self._commands_key(scope, language_code))
            return copy.deepcopy(found)

    # -- fault injection ------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        times: int = 1,
        parameters: dict[str, Any] | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Make the next `times` calls of method ("*" = any) fail with status (429: retry_after);
        with chat_id, only calls addressed to that chat."""
        params = dict(parameters or {})
        if status == 429:
            params.setdefault("retry_after", retry_after)
            default = f"Too Many Requests: retry after {retry_after}"
        else:
            default = _default_description(status)
        only = None if chat_id is None else str(chat_id)
        fault = _Fault(status, description or default, params or None, times, only)
        with self._lock:
            self._faults.setdefault(method.lower(), []).append(fault)

    def set_delay(self, method: str, seconds: float) -> None:
        """Delay answers to method ("*" = any) by seconds; 0 removes the delay."""
        with self._lock:
            if seconds > 0:
                self._delays[method.lower()] = seconds
            else:
                self._delays.pop(method.lower(), None)

    def set_down(self, down: bool = True, *, status: int = 502, hang: bool = False) -> None:
        """Simulate an outage: every request answers `status`, or hangs while down if hang."""
        with self._lock:
            self._down = down
            self._down_status = status
            self._down_hang = hang

    def set_blocked(self, chat_id: int, blocked: bool = True) -> None:
        """Make sends to chat_id fail with 403 "bot was blocked by the user"."""
        with self._lock:
            if blocked:
                self._blocked.add(chat_id)
            else:
                self._blocked.discard(chat_id)

    def set_admins(self, chat_id: int, user_ids: set[int] | list[int]) -> None:
        """Who administers a group (getChatMember / getChatAdministrators); others are members."""
        with self._lock:
            self._admins[chat_id] = set(user_ids)

    def set_handler(self, method: str, handler: Callable[[dict[str, Any]], Any] | None) -> None:
        """Serve method with handler(params) -> result (may be async, may raise FakeApiError).

        Lets tests add methods the fake lacks without editing it; None removes the override.
        """
        with self._lock:
            if handler is None:
                self._custom.pop(method.lower(), None)
            else:
                self._custom[method.lower()] = handler

    # -- update injection -----------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (assigning update_id if absent); returns it."""
        update = copy.deepcopy(update)
        with self._lock:
            if "update_id" not in update:
                update["update_id"] = self._new_update_id()
            else:
                self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
            self._updates.append(update)
        self._wake_waiters(None)
        return copy.deepcopy(update)

    def _new_update_id(self) -> int:
        """Next update_id (caller holds the lock)."""
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    def _emit(self, kind: str, payload: dict[str, Any], push: bool) -> dict[str, Any]:
        """Wrap payload as an Update of kind and queue it unless push is False."""
        with self._lock:
            update = {"update_id": self._new_update_id(), kind: payload}
        if push:
            return self.push_update(update)
        return update

    @staticmethod
    def user(
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Ana",
        username: str | None = "ana_test",
        language_code: str | None = "es",
    ) -> dict[str, Any]:
        """A human User object."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return user

    def chat(
        self,
        chat_id: int,
        chat_type: str = "private",
        *,
        title: str | None = None,
        first_name: str = "Ana",
        username: str | None = "ana_test",
    ) -> dict[str, Any]:
        """Register and return a Chat object so messages sent to chat_id carry it."""
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
            if username:
                chat["username"] = username
        else:
            default = "Test Channel" if chat_type == "channel" else "Test Group"
            chat["title"] = title or default
        with self._lock:
            self._chats[chat_id] = chat
        return copy.deepcopy(chat)

    def message(
        self,
        text: str | None = None,
        *,
        user_id: int = DEFAULT_USER_ID,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Ana",
        username: str | None = "ana_test",
        language_code: str | None = "es",
        chat_title: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        reply_to: int | dict[str, Any] | None = None,
        document: dict[str, Any] | None = None,
        sticker: dict[str, Any] | bool | None = None,
        photo: list[dict[str, Any]] | bytes | bool | None = None,
        voice: dict[str, Any] | bytes | bool | None = None,
        caption: str | None = None,
        caption_entities: list[dict[str, Any]] | None = None,
        edited: bool = False,
        channel: bool = False,
        message_id: int | None = None,
        push: bool = True,
    ) -> dict[str, Any]:
        """Build (and by default queue) a realistic message Update; returns the update dict.

        Text starting with "/" gets a bot_command entity (covering "/cmd@botname"). edited=True
        yields edited_message (of message_id, default the user's last message in the chat);
        channel=True yields a channel_post without "from". push=False only builds it, e.g. for
        post_webhook().
        """
        if channel:
            chat_type = "channel"
        if chat_id is None:
            chat_id = {
                "private": user_id,
                "group": -4001,
                "supergroup": -1001000000001,
                "channel": -1002000000001,
            }[chat_type]
        chat = self.chat(
            chat_id, chat_type, title=chat_title, first_name=first_name, username=username
        )
        sender = self.user(user_id, first_name, username, language_code)
        with self._lock:
            if edited and message_id is None:
                own = [
                    mid
                    for (cid, mid), m in self._messages.items()
                    if cid == chat_id and m.get("from", {}).get("id") == user_id
                ]
                message_id = max(own) if own else None
            if message_id is None:
                message_id = self._allocate_message_id(chat_id)
            msg: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": chat}
            if channel:
                msg["sender_chat"] = chat
            else:
                msg["from"] = sender
            if edited:
                msg["edit_date"] = int(time.time())
            if reply_to is not None:
                quoted = (
                    reply_to
                    if isinstance(reply_to, dict)
                    else self._messages.get((chat_id, reply_to))
                )
                if quoted is None:
                    raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
                msg["reply_to_message"] = _strip_reply(quoted)
        if text is not None:
            msg["text"] = text
            if entities is None and text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
            if entities:
                msg["entities"] = entities
        if document is not None:
            msg["document"] = document
        if sticker:
            msg["sticker"] = sticker if isinstance(sticker, dict) else self._sticker()
        if photo:
            msg["photo"] = photo if isinstance(photo, list) else self._photo(photo)
        if voice:
            msg["voice"] = voice if isinstance(voice, dict) else self._voice(voice)
        if caption is not None:
            msg["caption"] = caption
            if caption_entities:
                msg["caption_entities"] = caption_entities
        with self._lock:
            self._store_message(copy.deepcopy(msg))
        kind = ("edited_" if edited else "") + ("channel_post" if channel else "message")
        return self._emit(kind, msg, push)

    def document_message(
        self,
        file_bytes: bytes | None,
        file_name: str,
        mime_type: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        caption: str | None = None,
        file_size: int | None = None,
        **message_kwargs: Any,
    ) -> dict[str, Any]:
        """A message carrying a document registered for getFile/download.

        file_size overrides the reported size, e.g. to simulate files over 20 MB without bytes.
        Other keyword arguments go to message().
        """
        stored = self.register_file(
            file_bytes, file_name=file_name, file_size=file_size, kind="documents"
        )
        document = {
            "file_id": stored["file_id"],
            "file_unique_id": stored["file_unique_id"],
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": stored["file_size"],
        }
        return self.message(
            None, user_id=user_id, document=document, caption=caption, **message_kwargs
        )

    def register_file(
        self,
        data: bytes | None,
        *,
        file_name: str | None = None,
        file_size: int | None = None,
        kind: str = "documents",
    ) -> dict[str, Any]:
        """Make bytes fetchable via getFile + download; returns the File object (with path)."""
        with self._lock:
            n = next(self._ids)
            suffix = PurePosixPath(file_name).suffix if file_name else ""
            size = file_size if file_size is not None else len(data or b"")
            stored = _StoredFile(
                file_id=f"BQACAgEAAx{n:06d}fake",
                file_unique_id=f"AgAD{n:06d}",
                file_path=f"{kind}/file_{n}{suffix}",
                file_size=size,
                data=data,
            )
            self._files[stored.file_id] = stored
            self._files_by_path[stored.file_path] = stored
            return stored.as_api()

    def _sticker(self) -> dict[str, Any]:
        """A registered regular sticker."""
        stored = self.register_file(b"RIFF-fake-webp", file_name="s.webp", kind="stickers")
        return {
            "file_id": stored["file_id"],
            "file_unique_id": stored["file_unique_id"],
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
            "file_size": stored["file_size"],
        }

    def _photo(self, data: bytes | bool) -> list[dict[str, Any]]:
        """Two registered PhotoSizes, smallest first like Telegram."""
        raw = data if isinstance(data, bytes) else b"\xff\xd8\xff-fake-jpeg"
        sizes = []
        for width, height in ((90, 67), (800, 600)):
            stored = self.register_file(raw, file_name="p.jpg", kind="photos")
            sizes.append(
                {
                    "file_id": stored["file_id"],
                    "file_unique_id": stored["file_unique_id"],
                    "width": width,
                    "height": height,
                    "file_size": stored["file_size"],
                }
            )
        return sizes

    def _voice(self, data: bytes | bool) -> dict[str, Any]:
        """A registered voice note."""
        raw = data if isinstance(data, bytes) else b"OggS-fake-opus"
        stored = self.register_file(raw, file_name="v.oga", kind="voice")
        return {
            "file_id": stored["file_id"],
            "file_unique_id": stored["file_unique_id"],
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_size": stored["file_size"],
        }

    def callback_query(
        self,
        data: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        message: dict[str, Any] | None = None,
        inline_message_id: str | None = None,
        first_name: str = "Ana",
        username: str | None = "ana_test",
        push: bool = True,
    ) -> dict[str, Any]:
        """A button press on message (a bot message dict; default: the bot's last in the chat).

        The current stored version of the message is sent, as Telegram does after edits.
        """
        with self._lock:
            query_id = f"{next(self._ids)}{user_id}"
            self._callback_ids.add(query_id)
            payload: dict[str, Any] = {
                "id": query_id,
                "from": self.user(user_id, first_name, username),
                "data": data,
            }
            if inline_message_id is not None:
                payload["inline_message_id"] = inline_message_id
                payload["chat_instance"] = f"ci{user_id}"
            else:
                if message is None:
                    message = self.last_message(user_id)
                    if message is None:
                        raise ValueError(f"the bot has sent no message to chat {user_id}")
                key = (message["chat"]["id"], message["message_id"])
                current = self._messages.get(key, message)
                payload["message"] = {k: v for k, v in current.items() if k != "_seq"}
                payload["chat_instance"] = f"ci{message['chat']['id']}"
        return self._emit("callback_query", copy.deepcopy(payload), push)

    def inline_query(
        self,
        query: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        offset: str = "",
        chat_type: str | None = "sender",
        first_name: str = "Ana",
        username: str | None = "ana_test",
        push: bool = True,
    ) -> dict[str, Any]:
        """An inline query "@bot query" from user_id."""
        with self._lock:
            query_id = f"{next(self._ids)}{user_id}"
            self._inline_ids.add(query_id)
        payload: dict[str, Any] = {
            "id": query_id,
            "from": self.user(user_id, first_name, username),
            "query": query,
            "offset": offset,
        }
        if chat_type:
            payload["chat_type"] = chat_type
        return self._emit("inline_query", payload, push)

    # -- webhook mode ---------------------------------------------------------------------

    def post_webhook(
        self,
        url: str,
        update: dict[str, Any],
        secret_token: str | None = None,
        *,
        timeout: float = 10.0,
    ) -> int:
        """POST update as JSON to a bot's webhook like Telegram does; returns the HTTP status."""
        if "update_id" not in update:
            with self._lock:
                update = {**update, "update_id": self._new_update_id()}
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        request = urllib.request.Request(
            url, data=json.dumps(update).encode(), headers=headers, method="POST"
        )
        # An empty ProxyHandler ignores *_PROXY env vars: the webhook is on localhost.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    # -- HTTP plumbing --------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        """Append a call and wake wait_for()."""
        with self._calls_changed:
            self._calls.append(call)
            self._calls_changed.notify_all()

    def _finish(
        self, call: Call, status: int, result: Any = None, error: str | None = None
    ) -> None:
        """Store the outcome on the call and wake wait_for() predicates that look at it."""
        with self._calls_changed:
            call.status, call.result, call.error = status, copy.deepcopy(result), error
            self._calls_changed.notify_all()

    def _canonical(self, method: str) -> str:
        """The camelCase name for a known method (matching is case-insensitive)."""
        known = self._methods.get(method.lower())
        return known[0] if known else method

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        """Query + form/multipart/JSON body as a dict, with PTB's JSON-encoded values decoded."""
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise _bad_request("can't parse JSON request body") from exc
                if not isinstance(body, dict):
                    raise _bad_request("JSON request body must be an object")
                raw.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        data = value.file.read()
                        files[key] = UploadedFile(value.filename, value.content_type, data)
                        raw[key] = {"filename": value.filename, "size": len(data)}
                    else:
                        raw[key] = value
        params = {key: _decode_param(key, value) for key, value in raw.items()}
        return params, files

    def _check_token(self, token: str) -> None:
        """401 for a well-formed foreign token, 404 for a malformed one, like Telegram."""
        if token == self.token:
            return
        if _TOKEN_RE.match(token):
            raise FakeApiError(401, "Unauthorized")
        raise FakeApiError(404, "Not Found")

    async def _sleep(self, seconds: float) -> None:
        """Sleep, cut short by stop()."""
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _apply_faults(self, method: str, params: dict[str, Any] | None = None) -> None:
        """Outage, delay and fail_next, in that order."""
        with self._lock:
            down, status, hang = self._down, self._down_status, self._down_hang
        if down:
            if hang:
                # Hold the request until the outage ends; it is still answered with an error
                # so nothing "happens" for a request the client has probably given up on.
                assert self._stopping is not None
                while not self._stopping.is_set():
                    with self._lock:
                        if not self._down:
                            break
                    await asyncio.sleep(0.02)
            raise FakeApiError(status, _default_description(status))
        key = method.lower()
        with self._lock:
            delay = self._delays.get(key, self._delays.get("*", 0.0))
        if delay:
            await self._sleep(delay)
        with self._lock:
            fault = None
            chat = str((params or {}).get("chat_id"))
            for queue_key in (key, "*"):
                queue = self._faults.get(queue_key) or []
                fault = next((f for f in queue if f.chat_id in (None, chat)), None)
                if fault is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        queue.remove(fault)
                    break
        if fault is not None:
            raise FakeApiError(fault.status, fault.description, fault.parameters)

    async def _handle_api(self, request: web.Request) -> web.Response:
        """Every Bot API method: record, check token, inject faults, dispatch."""
        method = self._canonical(request.match_info["method"])
        call = Call(method=method, params={}, timestamp=time.time(), http_method=request.method)
        try:
            try:
                call.params, call.files = await self._read_params(request)
            finally:
                self._record(call)
            self._check_token(request.match_info["token"])
            await self._apply_faults(method, call.params)
            result = await self._dispatch(method, call.params)
        except FakeApiError as exc:
            self._finish(call, exc.status, error=exc.description)
            return web.json_response(exc.payload(), status=exc.status)
        except Exception as exc:
            # A bug in the fake or a custom handler: answer 500 with the cause, not a bare page.
            _LOGGER.exception("fake Telegram crashed serving %s", method)
            error = FakeApiError(500, f"Internal Server Error: fake crashed: {exc!r}")
            self._finish(call, 500, error=error.description)
            return web.json_response(error.payload(), status=500)
        self._finish(call, 200, result=result)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        """File download at /file/bot{token}/{file_path}, recorded as method "downloadFile"."""
        file_path = request.match_info["file_path"]
        call = Call(
            method="downloadFile",
            params={"file_path": file_path},
            timestamp=time.time(),
            http_method=request.method,
        )
        self._record(call)
        try:
            if request.match_info["token"] != self.token:
                raise FakeApiError(404, "Not Found")  # the file server only says 404
            await self._apply_faults("downloadFile")
            with self._lock:
                stored = self._files_by_path.get(file_path)
            if stored is None or stored.data is None:
                raise FakeApiError(404, "Not Found")
        except FakeApiError as exc:
            self._finish(call, exc.status, error=exc.description)
            return web.json_response(exc.payload(), status=exc.status)
        self._finish(call, 200, result=len(stored.data))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _handle_unknown_route(self, request: web.Request) -> web.Response:
        """Anything else is a 404, as on api.telegram.org."""
        return web.json_response(FakeApiError(404, "Not Found").payload(), status=404)

    async def _dispatch(self, method: str, params: dict[str, Any]) -> Any:
        """Run a custom handler, getUpdates, a built-in handler, or fail loudly."""
        key = method.lower()
        with self._lock:
            custom = self._custom.get(key)
        if custom is not None:
            result = custom(params)
            if inspect.isawaitable(result):
                result = await result
            return result
        if key == "getupdates":
            return await self._get_updates(params)
        known = self._methods.get(key)
        if known is None:
            _LOGGER.warning("fake Telegram: method %s is not implemented", method)
            raise _bad_request(f"method not implemented in fake: {method}")
        with self._lock:
            return copy.deepcopy(known[1](params))

    # -- getUpdates -----------------------------------------------------------------------

    def _wake_waiters(self, reason: str | None) -> None:
        """Wake pending long polls from any thread (they live on the server loop)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def wake() -> None:
            for waiter in list(self._waiters):
                if reason is not None:
                    waiter.reason = reason
                waiter.event.set()

        with contextlib.suppress(RuntimeError):  # loop closed between the check and the call
            loop.call_soon_threadsafe(wake)

    def _select_updates(self, limit: int) -> list[dict[str, Any]]:
        """Deliverable updates (caller holds the lock); filtered types are dropped for good."""
        if self._allowed_updates:
            allowed = set(self._allowed_updates)
            self._updates = [
                u for u in self._updates if any(k in allowed for k in u if k != "update_id")
            ]
        return copy.deepcopy(self._updates[:limit])

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """getUpdates with offset confirmation, limit, allowed_updates and long polling."""
        # A newer poll terminates older ones with 409, as on Telegram.
        for waiter in list(self._waiters):
            waiter.reason = "conflict"
            waiter.event.set()
        offset = params.get("offset")
        limit = min(max(_as_int(params.get("limit") or 100, "limit"), 1), 100)
        try:
            timeout = min(float(params.get("timeout") or 0), MAX_LONG_POLL)
        except (TypeError, ValueError) as exc:
            raise _bad_request("invalid timeout specified") from exc
        with self._lock:
            if self._webhook.get("url"):
                raise FakeApiError(409, _CONFLICT_WEBHOOK)
            if offset is not None:
                offset = _as_int(offset, "offset")
                if offset > 0:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                elif offset < 0:
                    self._updates = self._updates[offset:]
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = allowed or None  # [] resets to all types
            found = self._select_updates(limit)
        if found or timeout <= 0:
            return found
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        waiter = _Waiter()
        self._waiters.add(waiter)
        try:
            while True:
                with self._lock:
                    found = self._select_updates(limit)
                if found:
                    return found
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.event.wait(), remaining)
                waiter.event.clear()
                if waiter.reason == "conflict":
                    raise FakeApiError(409, _CONFLICT_POLL)
                if waiter.reason == "stop":
                    return []
        finally:
            self._waiters.discard(waiter)

    def _unused_sync_handler(self, params: dict[str, Any]) -> Any:
        """Placeholder so getUpdates is a known method; _dispatch serves it asynchronously."""
        raise AssertionError("getUpdates is dispatched asynchronously")

    # -- built-in methods (called with the lock held) -------------------------------------

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        """getMe."""
        return self._me

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        """deleteWebhook (drop_pending_updates supported)."""
        self._webhook = {}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        """setWebhook: stores url/secret_token/...; an empty url removes the webhook."""
        url = params.get("url")
        if url is None:
            raise _bad_request("url is empty")  # the parameter is required, "" is allowed
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.match(str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if not url:
            self._webhook = {}
            return True
        self._webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": params.get("max_connections", 40),
            "ip_address": params.get("ip_address"),
            "has_custom_certificate": "certificate" in params,
        }
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """getWebhookInfo (never reveals the secret token, like Telegram)."""
        info: dict[str, Any] = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": self._webhook.get("has_custom_certificate", False),
            "pending_update_count": len(self._updates),
        }
        if self._webhook:
            info["max_connections"] = self._webhook["max_connections"]
            for key in ("allowed_updates", "ip_address"):
                if self._webhook.get(key):
                    info[key] = self._webhook[key]
        return info

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        """Commands are stored per (scope, language_code), like Telegram."""
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        """setMyCommands with Telegram's validation of names and descriptions."""
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("commands must be a list of at most 100 BotCommand")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.match(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = commands
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """getMyCommands."""
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return self._commands.get(key, [])

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        """deleteMyCommands."""
        self._commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    def _resolve_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        """The chat for params' chat_id: registered, by @username, or implied by the id."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            for chat in self._chats.values():
                if chat.get("username", "").lower() == raw[1:].lower():
                    return chat
            raise _bad_request("chat not found")
        chat_id = _as_int(raw, "chat_id")
        if chat_id in self._chats:
            return self._chats[chat_id]
        # Unknown ids are accepted so tests need not register every chat.
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "User"}
        chat_type = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": chat_type, "title": "Test Group"}

    def _allocate_message_id(self, chat_id: int) -> int:
        """Message ids count up per chat, shared by user and bot messages as on Telegram."""
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _store_message(self, message: dict[str, Any]) -> None:
        """Keep a message for replies, edits, deletes and callback queries."""
        message["_seq"] = next(self._ids)  # creation order, stripped from API answers
        self._messages[(message["chat"]["id"], message["message_id"])] = message
        self._next_message_id[message["chat"]["id"]] = max(
            self._next_message_id.get(message["chat"]["id"], 1), message["message_id"] + 1
        )

    @staticmethod
    def _public(message: dict[str, Any]) -> dict[str, Any]:
        """A stored message as the API returns it."""
        return {k: v for k, v in message.items() if k != "_seq"}

    @staticmethod
    def _validate_markup(markup: Any) -> dict[str, Any] | None:
        """The reply_markup Telegram echoes in Message (inline keyboards only), validated."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None  # reply keyboards etc. are accepted but not part of the Message
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad_request("BUTTON_TEXT_INVALID")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise _bad_request("BUTTON_DATA_INVALID")
        return markup

    @staticmethod
    def _format_text(params: dict[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
        """Text and entities after parse_mode (HTML parsed; Markdown kept as-is), validated."""
        text = params.get("text")
        if text is None or text == "":
            raise _bad_request("message text is empty")
        text = str(text)
        entities = params.get("entities")
        parse_mode = str(params.get("parse_mode") or "")
        if entities is None and parse_mode.lower() == "html":
            text, entities = parse_html(text)
        elif parse_mode and parse_mode.lower() not in ("html", "markdown", "markdownv2"):
            raise _bad_request(f"unsupported parse_mode {parse_mode}")
        if not text.strip():
            raise _bad_request("message text is empty")
        if _utf16_len(text) > MAX_MESSAGE_LENGTH:
            raise _bad_request("message is too long")
        return text, entities or None

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        """sendMessage: a full Message from the bot."""
        chat = self._resolve_chat(params)
        if chat["id"] in self._blocked:
            raise FakeApiError(403, "Forbidden: bot was blocked by the user")
        text, entities = self._format_text(params)
        markup = self._validate_markup(params.get("reply_markup"))
        reply_parameters = params.get("reply_parameters") or {}
        reply_id = reply_parameters.get("message_id", params.get("reply_to_message_id"))
        quoted = None
        if reply_id is not None:
            reply_chat = reply_parameters.get("chat_id", chat["id"])
            quoted = self._messages.get(
                (_as_int(reply_chat, "chat_id"), _as_int(reply_id, "message_id"))
            )
            allow_missing = reply_parameters.get(
                "allow_sending_without_reply", params.get("allow_sending_without_reply")
            )
            if quoted is None and not allow_missing:
                raise _bad_request("message to be replied not found")
        message: dict[str, Any] = {
            "message_id": self._allocate_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if params.get("message_thread_id") is not None:
            message["message_thread_id"] = params["message_thread_id"]
        if quoted is not None:
            message["reply_to_message"] = _strip_reply(self._public(quoted))
        if entities:
            message["entities"] = entities
        if params.get("link_preview_options") is not None:
            message["link_preview_options"] = params["link_preview_options"]
        if markup is not None:
            message["reply_markup"] = markup
        self._store_message(message)
        return self._public(message)

    def _target_message(self, params: dict[str, Any], verb: str) -> dict[str, Any] | None:
        """The stored bot message an edit refers to, or None for inline_message_id edits."""
        if params.get("inline_message_id"):
            return None
        chat = self._resolve_chat(params)
        if params.get("message_id") is None:
            raise _bad_request("message identifier is not specified")
        key = (chat["id"], _as_int(params["message_id"], "message_id"))
        message = self._messages.get(key)
        if message is None:
            raise _bad_request(f"message to {verb} not found")
        if message.get("from", {}).get("id") != self.bot_id and verb == "edit":
            raise _bad_request("message can't be edited")
        return message

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        """editMessageText; returns the Message, or True for inline messages.

        Like Telegram: omitting reply_markup removes the keyboard, and an identical edit is
        "message is not modified".
        """
        message = self._target_message(params, "edit")
        text, entities = self._format_text(params)
        markup = self._validate_markup(params.get("reply_markup"))
        if message is None:
            self._inline_messages[str(params["inline_message_id"])] = {
                "text": text,
                "entities": entities,
                "reply_markup": markup,
            }
            return True
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        if (
            message["text"] == text
            and message.get("entities") == entities
            and message.get("reply_markup") == markup
        ):
            raise _bad_request(_NOT_MODIFIED)
        message["text"] = text
        message["edit_date"] = int(time.time())
        for key, value in (("entities", entities), ("reply_markup", markup)):
            if value:
                message[key] = value
            else:
                message.pop(key, None)
        return self._public(message)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        """editMessageReplyMarkup; omitted reply_markup removes the keyboard."""
        message = self._target_message(params, "edit")
        markup = self._validate_markup(params.get("reply_markup"))
        if message is None:
            inline = self._inline_messages.setdefault(str(params["inline_message_id"]), {})
            inline["reply_markup"] = markup
            return True
        if message.get("reply_markup") == markup:
            raise _bad_request(_NOT_MODIFIED)
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return self._public(message)

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        """answerCallbackQuery for an id issued by callback_query()."""
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._callback_ids:
            raise _bad_request(_QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and _utf16_len(str(text)) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._callback_answers[query_id] = dict(params)
        return True

    def _answer_inline_query(self, params: dict[str, Any]) -> bool:
        """answerInlineQuery for an id issued by inline_query(); results are recorded."""
        query_id = str(params.get("inline_query_id", ""))
        if query_id not in self._inline_ids:
            raise _bad_request(_QUERY_TOO_OLD)
        results = params.get("results")
        if not isinstance(results, list) or len(results) > 50:
            raise _bad_request(
                "RESULTS_TOO_MUCH" if isinstance(results, list) else "results is empty"
            )
        ids = [r.get("id") for r in results if isinstance(r, dict)]
        if len(ids) != len(results) or len(set(ids)) != len(ids) or not all(ids):
            raise _bad_request("RESULT_ID_DUPLICATE" if all(ids) else "RESULT_ID_INVALID")
        self._inline_answers[query_id] = dict(params)
        return True

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        """sendChatAction with Telegram's list of actions."""
        chat = self._resolve_chat(params)
        if chat["id"] in self._blocked:
            raise FakeApiError(403, "Forbidden: bot was blocked by the user")
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _delete_message(self, params: dict[str, Any]) -> bool:
        """deleteMessage."""
        chat = self._resolve_chat(params)
        key = (chat["id"], _as_int(params.get("message_id"), "message_id"))
        if self._messages.pop(key, None) is None:
            raise _bad_request("message to delete not found")
        return True

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        """getFile: refuses files over 20 MB like the cloud Bot API."""
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise _bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad_request("file is too big")
        return stored.as_api()

    def _close(self, params: dict[str, Any]) -> bool:
        """close."""
        return True

    def _member(self, chat_id: int, user_id: int) -> dict[str, Any]:
        user = self.user(user_id, first_name=f"U{user_id}", username=None)
        if user_id not in self._admins.get(chat_id, set()):
            return {"status": "member", "user": user}
        rights = (
            "can_be_edited can_manage_chat can_change_info can_delete_messages can_invite_users "
            "can_restrict_members can_pin_messages can_promote_members can_manage_video_chats "
            "can_post_stories can_edit_stories can_delete_stories"
        ).split()
        return {
            "status": "administrator",
            "user": user,
            "is_anonymous": False,
            **{right: False for right in rights},
        }

    def _get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        """getChatMember: "administrator" for ids given to set_admins, else "member"."""
        chat = self._resolve_chat(params)
        return self._member(chat["id"], _as_int(params.get("user_id"), "user_id"))

    def _get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._resolve_chat(params)
        return [self._member(chat["id"], uid) for uid in sorted(self._admins.get(chat["id"], ()))]

    def _log_out(self, params: dict[str, Any]) -> bool:
        """logOut."""
        return True
