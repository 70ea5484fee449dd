"""Discord's documented payload limits, answered the way Discord answers them.

Every checker returns ``None`` when the payload is acceptable, or the JSON error body Discord would send
(``{"code": 50035, "message": "Invalid Form Body", "errors": {...}}`` or ``{"code": 50006, ...}``).
"""

from __future__ import annotations

import re
from typing import Any

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER_TEXT = 2048
MAX_AUTHOR_NAME = 256
MAX_EMBED_TOTAL = 6000
MAX_ACTION_ROWS = 5
MAX_ROW_COMPONENTS = 5
MAX_BUTTON_LABEL = 80
MAX_CUSTOM_ID = 100
MAX_SELECT_OPTIONS = 25
MAX_PLACEHOLDER = 150
MAX_CHOICES = 25
MAX_CHOICE_NAME = 100
MAX_CHOICE_VALUE = 100
MAX_COMMANDS = 100
MAX_OPTIONS = 25
MAX_COMMAND_DESCRIPTION = 100

FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15
# Flags a bot may set on an interaction response or followup.
RESPONSE_FLAGS = FLAG_EPHEMERAL | FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2

INVALID_FORM_BODY = 50035
EMPTY_MESSAGE = 50006

_COMMAND_NAME_RE = re.compile(r"^[-_\w]{1,32}$")


class _Errors:
    """Collects errors into Discord's nested ``{"a": {"0": {"b": {"_errors": [...]}}}}`` shape."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, path: list[str | int], code: str, message: str) -> None:
        node = self.tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_len(self, path: list[str | int], value: Any, limit: int) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def min_len(self, path: list[str | int], value: Any, limit: int) -> None:
        if not isinstance(value, str) or len(value) < limit:
            self.add(path, "BASE_TYPE_MIN_LENGTH", f"Must be {limit} or more in length.")

    def max_items(self, path: list[str | int], value: Any, limit: int) -> None:
        if isinstance(value, list) and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def body(self, prefix: list[str | int] | None = None) -> dict[str, Any] | None:
        if not self.tree:
            return None
        tree: dict[str, Any] = self.tree
        for part in reversed(prefix or []):
            tree = {str(part): tree}
        return form_error(tree)


def form_error(errors: dict[str, Any]) -> dict[str, Any]:
    return {"code": INVALID_FORM_BODY, "message": "Invalid Form Body", "errors": errors}


def empty_message_error() -> dict[str, Any]:
    return {"code": EMPTY_MESSAGE, "message": "Cannot send an empty message"}


def embed_text_length(embed: dict[str, Any]) -> int:
    """The characters Discord counts towards the 6,000 limit of one embed."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for field in embed.get("fields") or []:
        total += len(field.get("name") or "") + len(field.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def _check_embeds(errs: _Errors, embeds: Any) -> None:
    if embeds is None:
        return
    if not isinstance(embeds, list):
        errs.add(["embeds"], "BASE_TYPE_BAD_TYPE", "Must be an array.")
        return
    errs.max_items(["embeds"], embeds, MAX_EMBEDS)
    total = 0
    for i, embed in enumerate(embeds):
        path: list[str | int] = ["embeds", i]
        errs.max_len([*path, "title"], embed.get("title"), MAX_EMBED_TITLE)
        errs.max_len([*path, "description"], embed.get("description"), MAX_EMBED_DESCRIPTION)
        fields = embed.get("fields") or []
        errs.max_items([*path, "fields"], fields, MAX_EMBED_FIELDS)
        for j, field in enumerate(fields):
            fpath: list[str | int] = [*path, "fields", j]
            name, value = field.get("name"), field.get("value")
            if not name:
                errs.add([*fpath, "name"], "BASE_TYPE_REQUIRED", "This field is required")
            if not value:
                errs.add([*fpath, "value"], "BASE_TYPE_REQUIRED", "This field is required")
            errs.max_len([*fpath, "name"], name, MAX_FIELD_NAME)
            errs.max_len([*fpath, "value"], value, MAX_FIELD_VALUE)
        errs.max_len([*path, "footer", "text"], (embed.get("footer") or {}).get("text"), MAX_FOOTER_TEXT)
        errs.max_len([*path, "author", "name"], (embed.get("author") or {}).get("name"), MAX_AUTHOR_NAME)
        total += embed_text_length(embed)
    if total > MAX_EMBED_TOTAL:
        errs.add(
            ["embeds"], "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}"
        )


def _check_interactive(errs: _Errors, comp: dict[str, Any], path: list[str | int], seen: set[str]) -> None:
    """Buttons (2) and selects (3, 5, 6, 7, 8), wherever they are."""
    ctype = comp.get("type")
    custom_id = comp.get("custom_id")
    if custom_id is not None:
        errs.max_len([*path, "custom_id"], custom_id, MAX_CUSTOM_ID)
        if custom_id in seen:
            errs.add(
                [*path, "custom_id"],
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(custom_id)
    if ctype == 2:
        errs.max_len([*path, "label"], comp.get("label"), MAX_BUTTON_LABEL)
        style = comp.get("style")
        if style == 5:
            if not comp.get("url"):
                errs.add([*path, "url"], "BASE_TYPE_REQUIRED", "This field is required")
        elif style != 6 and not custom_id:
            errs.add([*path, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
    elif ctype in (3, 5, 6, 7, 8):
        if not custom_id:
            errs.add([*path, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
        errs.max_len([*path, "placeholder"], comp.get("placeholder"), MAX_PLACEHOLDER)
        if ctype == 3:
            options = comp.get("options") or []
            errs.max_items([*path, "options"], options, MAX_SELECT_OPTIONS)
            for k, opt in enumerate(options):
                errs.max_len([*path, "options", k, "label"], opt.get("label"), 100)
                errs.max_len([*path, "options", k, "value"], opt.get("value"), 100)
                errs.max_len([*path, "options", k, "description"], opt.get("description"), 100)


def _walk_components(errs: _Errors, comps: list[Any], path: list[str | int], seen: set[str]) -> None:
    for i, comp in enumerate(comps):
        cpath = [*path, i]
        _check_interactive(errs, comp, cpath, seen)
        children = comp.get("components")
        if isinstance(children, list):
            _walk_components(errs, children, [*cpath, "components"], seen)
        for key in ("accessory", "component"):
            child = comp.get(key)
            if isinstance(child, dict):
                _check_interactive(errs, child, [*cpath, key], seen)


def _check_components(errs: _Errors, comps: Any, flags: int) -> None:
    if comps is None:
        return
    if not isinstance(comps, list):
        errs.add(["components"], "BASE_TYPE_BAD_TYPE", "Must be an array.")
        return
    if not flags & FLAG_COMPONENTS_V2:
        errs.max_items(["components"], comps, MAX_ACTION_ROWS)
        for i, row in enumerate(comps):
            if row.get("type") != 1:
                errs.add(["components", i, "type"], "UNION_TYPE_CHOICES", 'Value of field "type" must be 1.')
                continue
            children = row.get("components") or []
            if not children:
                errs.add(
                    ["components", i, "components"], "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."
                )
            errs.max_items(["components", i, "components"], children, MAX_ROW_COMPONENTS)
            if len(children) > 1 and any(c.get("type") != 2 for c in children):
                errs.add(
                    ["components", i, "components"],
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "The specified component exceeds the maximum width",
                )
    _walk_components(errs, comps, ["components"], set())


def message_is_empty(msg: dict[str, Any]) -> bool:
    return not (
        (msg.get("content") or "")
        or msg.get("embeds")
        or msg.get("components")
        or msg.get("attachments")
        or msg.get("sticker_ids")
        or msg.get("poll")
    )


def validate_message(
    payload: dict[str, Any], *, prefix: list[str | int] | None = None, check_empty: bool = True
) -> dict[str, Any] | None:
    """Checks a message body (create, edit, interaction response data, followup).

    For edits, pass the merged result (old message + changed fields) so the empty-message rule sees the
    final state. ``prefix`` nests the errors, e.g. ``["data"]`` for an interaction callback.
    """
    errs = _Errors()
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        errs.add(["content"], "BASE_TYPE_BAD_TYPE", "Must be a string.")
    errs.max_len(["content"], content, MAX_CONTENT)
    flags = int(payload.get("flags") or 0)
    _check_embeds(errs, payload.get("embeds"))
    _check_components(errs, payload.get("components"), flags)
    if flags & FLAG_COMPONENTS_V2 and (content or payload.get("embeds")):
        errs.add(
            ["content"],
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using MessageFlags.IS_COMPONENTS_V2",
        )
    body = errs.body(prefix)
    if body is not None:
        return body
    if check_empty and message_is_empty(payload):
        return empty_message_error()
    return None


def validate_autocomplete(data: dict[str, Any]) -> dict[str, Any] | None:
    errs = _Errors()
    choices = data.get("choices")
    if not isinstance(choices, list):
        errs.add(["choices"], "BASE_TYPE_REQUIRED", "This field is required")
    else:
        errs.max_items(["choices"], choices, MAX_CHOICES)
        for i, choice in enumerate(choices):
            name = choice.get("name")
            errs.min_len(["choices", i, "name"], name, 1)
            errs.max_len(["choices", i, "name"], name, MAX_CHOICE_NAME)
            errs.max_len(["choices", i, "value"], choice.get("value"), MAX_CHOICE_VALUE)
    return errs.body(["data"])


def _check_options(errs: _Errors, options: Any, path: list[str | int]) -> None:
    if options is None:
        return
    errs.max_items(path, options, MAX_OPTIONS)
    names: set[str] = set()
    seen_optional = False
    for i, opt in enumerate(options):
        opath = [*path, i]
        name = opt.get("name")
        if not isinstance(name, str) or not _COMMAND_NAME_RE.match(name) or name != name.lower():
            errs.add([*opath, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        elif name in names:
            errs.add(
                [*opath, "name"],
                "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                "Option name already exists",
            )
        names.add(name)
        desc = opt.get("description")
        errs.min_len([*opath, "description"], desc, 1)
        errs.max_len([*opath, "description"], desc, MAX_COMMAND_DESCRIPTION)
        if opt.get("type") in (1, 2):
            _check_options(errs, opt.get("options"), [*opath, "options"])
            continue
        if opt.get("required"):
            if seen_optional:
                errs.add(
                    [*opath, "required"],
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        choices = opt.get("choices") or []
        errs.max_items([*opath, "choices"], choices, MAX_CHOICES)
        for k, choice in enumerate(choices):
            errs.max_len([*opath, "choices", k, "name"], choice.get("name"), MAX_CHOICE_NAME)
            errs.max_len([*opath, "choices", k, "value"], choice.get("value"), MAX_CHOICE_VALUE)
        if choices and opt.get("autocomplete"):
            errs.add(
                [*opath, "autocomplete"],
                "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                "Autocomplete cannot be set with choices",
            )


def validate_commands(commands: Any) -> dict[str, Any] | None:
    """Checks a bulk-overwrite (``PUT .../commands``) body."""
    errs = _Errors()
    if not isinstance(commands, list):
        return form_error({"_errors": [{"code": "BASE_TYPE_BAD_TYPE", "message": "Must be an array."}]})
    if sum(1 for c in commands if c.get("type", 1) == 1) > MAX_COMMANDS:
        errs.add(
            [],
            "APPLICATION_COMMANDS_TOO_MANY",
            f"Maximum number of application commands reached ({MAX_COMMANDS})",
        )
    seen: set[tuple[int, str]] = set()
    for i, cmd in enumerate(commands):
        ctype = cmd.get("type", 1)
        name = cmd.get("name")
        bad_chat_name = (
            ctype == 1
            and isinstance(name, str)
            and (not _COMMAND_NAME_RE.match(name) or name != name.lower())
        )
        if not isinstance(name, str) or not name or len(name) > 32 or bad_chat_name:
            errs.add([i, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        elif (ctype, name) in seen:
            errs.add(
                [i, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
        seen.add((ctype, name or ""))
        if ctype == 1:
            desc = cmd.get("description")
            errs.min_len([i, "description"], desc, 1)
            errs.max_len([i, "description"], desc, MAX_COMMAND_DESCRIPTION)
            _check_options(errs, cmd.get("options"), [i, "options"])
        dmp = cmd.get("default_member_permissions")
        if dmp is not None:
            try:
                int(dmp)
            except (TypeError, ValueError):
                errs.add(
                    [i, "default_member_permissions"], "BASE_TYPE_BAD_TYPE", "Must be a permission integer."
                )
    return errs.body()
