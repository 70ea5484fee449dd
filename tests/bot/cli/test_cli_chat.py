"""`newsdesk chat` keeps the conversation (issue 15): a follow-up is answered from the earlier article and says
which question it follows up on; a blank line or `/new` starts over. The hashing embedder, in-process."""

from __future__ import annotations

from tests.bot.cli.test_cli_hardening import fast_cli, newsdesk  # noqa: F401  (the CLI with the hashing embedder)
from tests.conftest import ARTICLES, write

FIRST = "How much will the harbour bridge repairs cost?"
FOLLOW_UP = "who said it?"  # its own words find the comet article; the conversation means the bridge


def chat(capsys, monkeypatch, tmp_path, *lines: str) -> list[str]:
    """What the chat printed after each line (the answers, in order)."""
    folder = tmp_path / "articles"
    for name, text in ARTICLES.items():
        write(folder / name, text)
    rc, out, err = newsdesk(capsys, monkeypatch, "chat", "--articles", str(folder), "--index", str(tmp_path / "i"),
                            stdin="".join(f"{line}\n" for line in lines))  # fmt: skip
    assert rc == 0, err
    intro, *answers = out.split("? ")  # the prompt before each line read
    assert "/new" in intro and "blank line" in intro
    return answers


def test_a_follow_up_is_answered_from_the_earlier_article(capsys, monkeypatch, tmp_path):
    first, follow_up, _ = chat(capsys, monkeypatch, tmp_path, FIRST, FOLLOW_UP)
    assert "Harbour bridge closes for repairs" in first and "Following up" not in first
    assert follow_up.startswith(f"(Following up on “{FIRST}”)")
    assert "Harbour bridge closes for repairs" in follow_up and "comet" not in follow_up


def test_new_and_a_blank_line_start_over(capsys, monkeypatch, tmp_path):
    for reset in ("/new", ""):
        capsys.readouterr()
        _, cleared, follow_up, _ = chat(capsys, monkeypatch, tmp_path / (reset or "blank"), FIRST, reset, FOLLOW_UP)
        assert cleared.startswith("(new conversation)")
        assert "Following up" not in follow_up and "Amateur astronomers spot a new comet" in follow_up
