"""Domain errors raised by the retrieval engine, with attributes: the words people read are chosen at the edge.

`str(exc)` is a short technical line for logs. The sentences a member or an operator reads, in their language
and with what to do next, are in bot/i18n/errors.py (Discord and the command line).
"""

from __future__ import annotations


class NewsdeskError(Exception):
    """Base class: a problem a user can understand and act on."""


class IndexMissing(NewsdeskError):
    def __init__(self, path: str):
        self.path = path
        super().__init__(f"No index at {path}.")


class IndexCorrupt(NewsdeskError):
    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"The index at {path} cannot be read ({reason}).")


class IndexOutdated(NewsdeskError):
    def __init__(self, path: str, found: int, expected: int):
        self.path = path
        self.found = found
        self.expected = expected
        super().__init__(f"The index at {path} was written by an older Newsdesk (format {found}, now {expected}).")


class ModelMismatch(NewsdeskError):
    """The index's vectors were written by another embedder (model, weights, backend or precision)."""

    def __init__(self, index_model: dict | str, index_dim: int, model: dict | str, dim: int | None = None):
        self.index_identity = {"model": index_model} if isinstance(index_model, str) else dict(index_model)
        self.identity = {"model": model} if isinstance(model, str) else dict(model)
        self.index_model = self.index_identity.get("model", "?")
        self.index_dim = index_dim
        self.model = self.identity.get("model", "?")
        self.dim = dim
        super().__init__(f"The index was built with {self.index_identity} (dimension {index_dim}); the configured "
                         f"embedder is {self.identity} (dimension {dim}).")  # fmt: skip


class EmbedderUnavailable(NewsdeskError):
    """The configured embedding backend cannot run here (a missing extra, an unsupported model)."""

    def __init__(self, backend: str, model: str, reason: str):
        self.backend = backend
        self.model = model
        self.reason = reason
        super().__init__(f"The {backend} backend cannot run {model}: {reason}.")


class EmptyQuestion(NewsdeskError):
    def __init__(self) -> None:
        super().__init__("The question is empty.")


class QuestionTooLong(NewsdeskError):
    def __init__(self, length: int, limit: int):
        self.length = length
        self.limit = limit
        super().__init__(f"The question is {length} characters long; the limit is {limit}.")


class BadArticle(NewsdeskError):
    """A file that cannot be read as an article; `reason` is shown in the reindex summary."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class RemovalGuard(NewsdeskError):
    def __init__(self, removing: int, total: int, share: float):
        self.removing = removing
        self.total = total
        self.share = share
        super().__init__(f"This reindex would remove {removing} of {total} articles (over the {share:.0%} guard).")


class ReindexRunning(NewsdeskError):
    def __init__(self, started_by: str | None = None):
        self.started_by = started_by
        super().__init__("A reindex is already running" + (f" (started by {started_by})." if started_by else "."))


class BadFilter(NewsdeskError):
    """A filter value (date, source, language) that cannot be understood."""

    def __init__(self, value: str, kind: str = "date"):
        self.value = value
        self.kind = kind
        super().__init__(f"Not a {kind} filter: {value!r}.")


class IndexNotAFolder(NewsdeskError):
    """The index path (NEWSDESK_INDEX_DIR or --index), or a folder above it, is a file."""

    def __init__(self, path: str, file: str | None = None):
        self.path = path
        self.file = file or path
        where = "is a file" if self.file == path else f"is inside {self.file}, which is a file"
        super().__init__(f"The index path {path} {where}, not a folder.")


class DiskFull(NewsdeskError):
    """A reindex ran out of disk space (or quota); what it had written is removed, the index is unchanged."""

    def __init__(self, path: str, free_bytes: int | None, needed_bytes: int | None, serving: bool = True):
        self.path = path
        self.free_bytes = free_bytes
        self.needed_bytes = needed_bytes
        self.serving = serving
        mb = 1024 * 1024
        self.free_mb = round(free_bytes / mb) if free_bytes is not None else None
        self.needed_mb = max(1, -(-needed_bytes // mb)) if needed_bytes else None  # rounded up: at least 1 MB
        sizes = [f"{self.free_mb} MB free" if self.free_mb is not None else "",
                 f"about {self.needed_mb} MB needed" if self.needed_mb else ""]  # fmt: skip
        detail = ", ".join(s for s in sizes if s)
        after = "the previous index is still serving" if serving else "no index was written"
        super().__init__("No space left on the index's disk" + (f" ({detail})" if detail else "")
                         + f"; {after} (index at {path}).")  # fmt: skip
