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
