import re

from bot.settings import Settings
from tests.conftest import ROOT


def env_name(field: str) -> str:
    return "DISCORD_TOKEN" if field == "discord_token" else f"NEWSDESK_{field.upper()}"


def test_every_setting_is_documented_in_env_example_and_readme():
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    readme = (ROOT / "README.md").read_text()
    names = {env_name(f) for f in Settings.model_fields}
    assert names == documented
    assert [n for n in sorted(names) if f"`{n}`" not in readme] == []


def test_lists_from_the_environment_and_the_token_stays_secret(monkeypatch):
    monkeypatch.setenv("NEWSDESK_GUILD_IDS", "1, 2")
    monkeypatch.setenv("NEWSDESK_ARTICLES_DIR", "a,b")
    monkeypatch.setenv("DISCORD_TOKEN", "super-secret-token")
    s = Settings(_env_file=None)
    assert s.guild_ids == [1, 2] and [str(p) for p in s.articles_dir] == ["a", "b"]
    assert "super-secret-token" not in repr(s) and "super-secret-token" not in str(s.model_dump())


def test_sentence_vectors_can_be_turned_off_for_faster_reindexes(monkeypatch, tmp_path, articles_dir):
    from bot.compose import build_options
    from index.engine import Engine
    from tests.fakes import HashingEmbedder

    for value, expected in (("true", True), ("false", False)):
        monkeypatch.setenv("NEWSDESK_SENTENCE_VECTORS", value)
        options = build_options(Settings(_env_file=None))
        engine = Engine(tmp_path / value, HashingEmbedder(), build=options)
        engine.reindex([articles_dir])
        written = sorted(p.name for p in (tmp_path / value / "segments").rglob("sentences.npy"))
        assert bool(written) is expected, (value, written)
        assert engine.ask("How much will the harbour bridge repairs cost?").quotes  # answers either way
