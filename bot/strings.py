"""Every sentence the bot says, in English and French: one table, looked up by key and language."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "not_found": {
        "en": "The articles I have do not answer this question.",
        "fr": "Les articles dont je dispose ne répondent pas à cette question.",
    },
    "related": {"en": "Closest articles, as related reading:", "fr": "Articles les plus proches, à lire :"},
    "footer": {
        "en": "Searched {articles} articles in {ms} ms",
        "fr": "{articles} articles consultés en {ms} ms",
    },
    "answer_title": {"en": "From the articles", "fr": "D’après les articles"},
    "not_found_title": {"en": "Not in the articles", "fr": "Absent des articles"},
    "more": {"en": "More", "fr": "Plus"},
    "no_more": {"en": "No further quotes.", "fr": "Pas d’autres citations."},
    "cooldown": {
        "en": "Please wait {seconds} s before asking again.",
        "fr": "Merci d’attendre {seconds} s avant de poser une autre question.",
    },
    "search_title": {"en": "Passages matching “{query}”", "fr": "Passages correspondant à « {query} »"},
    "search_none": {"en": "No passage matches.", "fr": "Aucun passage ne correspond."},
    "sources_title": {"en": "Indexed articles", "fr": "Articles indexés"},
    "sources_none": {"en": "No article matches.", "fr": "Aucun article ne correspond."},
    "page": {"en": "Page {page}/{pages} · {total} articles", "fr": "Page {page}/{pages} · {total} articles"},
    "status_title": {"en": "Newsdesk status", "fr": "État de Newsdesk"},
    "status_articles": {"en": "Articles", "fr": "Articles"},
    "status_passages": {"en": "Passages", "fr": "Passages"},
    "status_languages": {"en": "Languages", "fr": "Langues"},
    "status_model": {"en": "Model", "fr": "Modèle"},
    "status_last": {"en": "Last reindex", "fr": "Dernière indexation"},
    "status_latency": {"en": "Gateway latency", "fr": "Latence de la passerelle"},
    "no_index": {
        "en": "No articles are indexed yet: an admin can run /reindex.",
        "fr": "Aucun article n’est encore indexé : un admin peut lancer /reindex.",
    },
    "reindex_refused": {
        "en": "Only Newsdesk admins can reindex.",
        "fr": "Seuls les admins de Newsdesk peuvent réindexer.",
    },
    "reindex_running": {
        "en": "A reindex is already running (started by {who}).",
        "fr": "Une réindexation est déjà en cours (lancée par {who}).",
    },
    "reindex_started": {"en": "Reindexing…", "fr": "Réindexation…"},
    "reindex_progress": {
        "en": "Reindexing: {stage} {done}/{total} articles…",
        "fr": "Réindexation : {stage} {done}/{total} articles…",
    },
    "stage_reading": {"en": "reading", "fr": "lecture"},
    "stage_embedding": {"en": "embedding", "fr": "encodage"},
    "reindex_done": {
        "en": "Reindex done in {seconds} s: {added} added, {updated} updated, {removed} removed, "
        "{unchanged} unchanged, {failed} failed; {articles} articles, {passages} passages.",
        "fr": "Réindexation terminée en {seconds} s : {added} ajoutés, {updated} mis à jour, {removed} retirés, "
        "{unchanged} inchangés, {failed} en échec ; {articles} articles, {passages} passages.",
    },
    "reindex_failed_item": {"en": "skipped {path}: {reason}", "fr": "ignoré {path} : {reason}"},
    "reindex_cancelled": {
        "en": "The reindex was cancelled; the previous index is still in use.",
        "fr": "La réindexation a été annulée ; l’index précédent reste en service.",
    },
    "reindex_error": {
        "en": "The reindex failed: {error} The previous index is still in use.",
        "fr": "La réindexation a échoué : {error} L’index précédent reste en service.",
    },
    "add_done": {"en": "Added “{title}” ({date}).", "fr": "Ajouté : « {title} » ({date})."},
    "add_refused": {"en": "Only Newsdesk admins can add articles.", "fr": "Seuls les admins peuvent ajouter des articles."},
    "error_generic": {
        "en": "Sorry, something went wrong while answering. The team has been told.",
        "fr": "Désolé, une erreur est survenue pendant la réponse. L’équipe a été prévenue.",
    },
    "bad_date": {"en": "“{value}” is not a date (use 2025-05 or 2025-05-12).",
                 "fr": "« {value} » n’est pas une date (écrivez 2025-05 ou 2025-05-12)."},
    "unknown_date": {"en": "undated", "fr": "sans date"},
}


def lang_of(locale: object) -> str:
    """Map a Discord locale ("fr", "en-US") or a language code to a language we have strings for."""
    value = str(getattr(locale, "value", locale) or "en").lower()
    return "fr" if value.startswith("fr") else "en"


def t(key: str, lang: str = "en", **values: object) -> str:
    table = STRINGS[key]
    text = table.get(lang_of(lang)) or table["en"]
    return text.format(**values) if values else text
