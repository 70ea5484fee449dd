"""Links in an articles folder, through `newsdesk reindex` and `newsdesk ask` as a user runs them.

In-process (bot.cli.main) with the hashing embedder instead of the real model, so it stays fast.
"""

import json
import os

import pytest

from bot import cli
from tests.fakes import HashingEmbedder

TOKEN = "zorblaxquint"  # a word no article holds: seen in an answer only if the outside file was read
SECRET = f"The vault code {TOKEN} opens the archive room, the caretaker wrote in a private note. {TOKEN} again."
STORY = ("The town library will open on Sundays from June, the mayor announced on Monday. The vault code of the "
         "archive room stays with the caretaker, she added.")  # fmt: skip


@pytest.fixture
def newsdesk(tmp_path, monkeypatch, capsys):
    from bot import compose
    from index.engine import Engine

    monkeypatch.setattr(compose, "make_engine", lambda settings: Engine(settings.index_dir, HashingEmbedder()))
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)

    def run(*args: str):
        capsys.readouterr()
        code = cli.main(["--env-file", str(tmp_path / "none.env"), *args])
        out = capsys.readouterr().out
        return code, out

    return run


def _symlink(link, target) -> None:
    try:
        os.symlink(target, link)
    except (OSError, NotImplementedError):
        pytest.skip("this file system has no symbolic links")


def test_links_out_of_the_folder_are_skipped_with_a_reason_and_never_quoted(tmp_path, newsdesk):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (outside / "secret.json").write_text(json.dumps({"title": "Vault", "text": SECRET}))
    folder = tmp_path / "A"
    (folder / "sub").mkdir(parents=True)
    (folder / "library.txt").write_text(f"title: Library opens on Sundays\n\n{STORY}\n")
    _symlink(folder / "absolute.txt", outside / "secret.txt")  # an absolute link
    _symlink(folder / "sub" / "relative.txt", "../../outside/secret.txt")  # a relative one, from a subfolder
    _symlink(outside / "hop.txt", outside / "secret.txt")
    _symlink(folder / "chained.json", outside / "hop.txt")  # a link to a link (both outside)
    _symlink(folder / "inner.txt", "sub/relative.txt")  # a link inside, to a link that leaves the folder
    _symlink(folder / "broken.md", outside / "gone.md")  # a dangling link out of the folder
    _symlink(folder / "json.json", outside / "secret.json")

    code, out = newsdesk("reindex", "--articles", str(folder), "--index", str(tmp_path / "I"), "--json")
    assert code == 0
    summary = json.loads(out)
    failed = {os.path.relpath(f["path"], folder.resolve()): f["reason"] for f in summary["failed"]}
    leaving = ["absolute.txt", "broken.md", "chained.json", "inner.txt", "json.json", os.path.join("sub", "relative.txt")]
    assert failed == dict.fromkeys(leaving, "a link to a file outside the articles folder: not read")
    assert summary["added"] == summary["articles"] == 1

    code, out = newsdesk("ask", f"What opens the archive room? {TOKEN}", "--index", str(tmp_path / "I"), "--json")
    assert code == 0
    answer = json.loads(out)
    shown = json.dumps([answer["quotes"], answer["related"]])  # all but the question, which holds the token
    assert TOKEN not in shown and "caretaker wrote" not in shown and "library.txt" in shown
    code, out = newsdesk("search", f"vault code {TOKEN} private note", "--index", str(tmp_path / "I"), "--json")
    assert code == 0 and TOKEN not in out and all("library.txt" in h["article"]["path"] for h in json.loads(out))


def test_a_link_inside_the_folder_is_indexed_once_under_the_real_name(tmp_path, newsdesk):
    folder = tmp_path / "A"
    (folder / "2025" / ".drafts").mkdir(parents=True)
    (folder / "2025" / "library.txt").write_text(f"title: Library opens on Sundays\n\n{STORY}\n")
    (folder / "2025" / ".drafts" / "draft.txt").write_text(f"title: Draft\n\n{SECRET}\n")
    (folder / "notes.cfg").write_text(SECRET)
    _symlink(folder / "latest.txt", "2025/library.txt")
    _symlink(folder / "draft.txt", folder / "2025" / ".drafts" / "draft.txt")
    _symlink(folder / "notes.txt", "notes.cfg")
    _symlink(folder / "2025.txt", "2025")  # a link to a folder, named like an article

    code, out = newsdesk("reindex", "--articles", str(folder), "--index", str(tmp_path / "I"), "--json")
    assert code == 0
    summary = json.loads(out)
    failed = {os.path.relpath(f["path"], folder.resolve()): f["reason"] for f in summary["failed"]}
    assert failed == {
        "latest.txt": "a link to A/2025/library.txt: not read twice (that file is indexed under its own name)",
        "draft.txt": "a link to A/2025/.drafts/draft.txt, which is not an article file: not read",
        "notes.txt": "a link to A/notes.cfg, which is not an article file: not read",
        "2025.txt": "a link to A/2025, which is not a file: not read",
    }
    assert summary["articles"] == 1
    code, out = newsdesk("ask", "When will the town library open on Sundays?", "--index", str(tmp_path / "I"), "--json")
    answer = json.loads(out)
    assert code == 0 and TOKEN not in out
    assert {q["article"]["path"] for q in answer["quotes"]} <= {str(folder.resolve() / "2025" / "library.txt")}
