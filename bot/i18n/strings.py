"""Every sentence the bot says, in English and French: one table, looked up by key and language.

The words for errors and refused commands are in bot/i18n/errors.py."""

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
    "status_upgrade": {
        "en": "{model} on /reindex force",
        "fr": "{model} avec /reindex force",
    },
    "status_last": {"en": "Last reindex", "fr": "Dernière indexation"},
    "status_latency": {"en": "Gateway latency", "fr": "Latence de la passerelle"},
    "no_index": {
        "en": "No articles are indexed yet: an admin can run /reindex.",
        "fr": "Aucun article n’est encore indexé : un admin peut lancer /reindex.",
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
    "reindex_error": {
        "en": "The reindex failed: {error} The previous index is still in use.",
        "fr": "La réindexation a échoué : {error} L’index précédent reste en service.",
    },
    "add_done": {"en": "Added “{title}” ({date}).", "fr": "Ajouté : « {title} » ({date})."},
    "add_failed": {"en": "Cannot add {url}: {error}", "fr": "Impossible d’ajouter {url} : {error}"},
    "error_generic": {
        "en": "Sorry, something went wrong while answering. The team has been told.",
        "fr": "Désolé, une erreur est survenue pendant la réponse. L’équipe a été prévenue.",
    },
    "unknown_date": {"en": "undated", "fr": "sans date"},
    # Timelines and follows (bot/cogs/follow.py, bot/render/follows.py)
    "timeline_title": {"en": "Timeline: {topic}", "fr": "Chronologie : {topic}"},
    "timeline_footer": {
        "en": "Page {page}/{pages} · {total} articles, oldest first",
        "fr": "Page {page}/{pages} · {total} articles, du plus ancien au plus récent",
    },
    "timeline_none": {
        "en": "The articles do not tell this story.",
        "fr": "Les articles ne racontent pas cette histoire.",
    },
    "newest": {"en": "newest", "fr": "le plus récent"},
    "also_in": {"en": "also in", "fr": "aussi dans"},
    "follow_done": {
        "en": "Following “{topic}” in {where}: new articles that match it will be posted there, at most one "
        "message every {cooldown}. /unfollow stops it.",
        "fr": "Vous suivez « {topic} » dans {where} : les nouveaux articles qui s’y rapportent y seront publiés, "
        "au plus un message toutes les {cooldown}. /unfollow arrête le suivi.",
    },
    "follow_dm": {"en": "your direct messages", "fr": "vos messages privés"},
    "follow_dm_hello": {
        "en": "You will get the new articles about “{topic}” here.",
        "fr": "Vous recevrez ici les nouveaux articles sur « {topic} ».",
    },
    "follow_dm_refused": {
        "en": "I cannot send you direct messages (your privacy settings block them): allow direct messages from "
        "server members, or follow the topic in a channel.",
        "fr": "Je ne peux pas vous envoyer de messages privés (vos paramètres de confidentialité les bloquent) : "
        "autorisez les messages privés des membres du serveur, ou suivez le sujet dans un salon.",
    },
    "follow_exists": {"en": "You already follow “{topic}” there.", "fr": "Vous suivez déjà « {topic} » à cet endroit."},
    "follow_limit_member": {
        "en": "You already follow {n} topics, the most allowed: /unfollow one first.",
        "fr": "Vous suivez déjà {n} sujets, le maximum : arrêtez-en un avec /unfollow.",
    },
    "follow_limit_guild": {
        "en": "This server already has {n} follows, the most allowed.",
        "fr": "Ce serveur compte déjà {n} suivis, le maximum autorisé.",
    },
    "follow_channel_refused": {
        "en": "I cannot post in that channel: choose a text channel where I may send messages.",
        "fr": "Je ne peux pas publier dans ce salon : choisissez un salon textuel où je peux écrire.",
    },
    "unfollow_done": {"en": "Stopped following “{topic}”.", "fr": "Vous ne suivez plus « {topic} »."},
    "unfollow_none": {"en": "No follow of yours matches this.", "fr": "Aucun de vos suivis ne correspond."},
    "unfollow_not_yours": {
        "en": "Only the member who follows this topic, or an admin, can stop it.",
        "fr": "Seul le membre qui suit ce sujet, ou un admin, peut arrêter ce suivi.",
    },
    "unfollow_button": {"en": "Unfollow", "fr": "Ne plus suivre"},
    "following_mine": {"en": "Your follows", "fr": "Vos suivis"},
    "following_guild": {"en": "Follows in this server", "fr": "Suivis de ce serveur"},
    "following_none": {"en": "Nothing is followed yet: /follow a topic.", "fr": "Aucun suivi pour l’instant : /follow un sujet."},
    "following_paused": {"en": "stopped: {reason}", "fr": "arrêté : {reason}"},
    "following_since": {"en": "since {date}", "fr": "depuis le {date}"},
    "following_last": {"en": "last alert {date}", "fr": "dernière alerte le {date}"},
    "alert_title": {"en": "New on “{topic}”", "fr": "Du nouveau sur « {topic} »"},
    "alert_footer": {
        "en": "{n} new article(s) · followed since {date} · the button below stops these messages",
        "fr": "{n} nouvel(s) article(s) · suivi depuis le {date} · le bouton ci-dessous arrête ces messages",
    },
    # Conversations and feedback (bot/cogs/qa.py, bot/cogs/feedback.py, bot/answer_buttons.py)
    "following_up": {"en": "Following up on “{question}”", "fr": "Suite de « {question} »"},
    "thread_button": {"en": "Follow up in a thread", "fr": "Poursuivre dans un fil"},
    "thread_name": {"en": "Follow-up", "fr": "Suite"},
    "thread_refused": {
        "en": "I cannot open a thread here: reply to the answer to ask a follow-up.",
        "fr": "Je ne peux pas ouvrir de fil ici : répondez à la réponse pour poser une question de suivi.",
    },
    "thread_exists": {"en": "The thread is open: <#{thread}>", "fr": "Le fil est ouvert : <#{thread}>"},
    "vote_helpful": {"en": "Helpful", "fr": "Utile"},
    "vote_wrong_quote": {"en": "Wrong quote", "fr": "Citation erronée"},
    "vote_outdated": {"en": "Outdated", "fr": "Dépassé"},
    "voted_recorded": {
        "en": "Thank you: your vote “{vote}” is recorded.",
        "fr": "Merci : votre vote « {vote} » est enregistré.",
    },
    "voted_changed": {"en": "Your vote is now “{vote}”.", "fr": "Votre vote est désormais « {vote} »."},
    "voted_same": {
        "en": "You already voted “{vote}” on this answer.",
        "fr": "Vous avez déjà voté « {vote} » pour cette réponse.",
    },
    "voted_unknown": {
        "en": "This answer is no longer on record: the vote was not kept.",
        "fr": "Cette réponse n’est plus enregistrée : le vote n’a pas été retenu.",
    },
    "voted_failed": {
        "en": "Votes cannot be recorded right now.",
        "fr": "Les votes ne peuvent pas être enregistrés pour le moment.",
    },
    "feedback_title": {"en": "Feedback on answers", "fr": "Avis sur les réponses"},
    "feedback_since": {"en": "the last {days} days", "fr": "les {days} derniers jours"},
    "feedback_all": {"en": "since the start", "fr": "depuis le début"},
    "feedback_counts": {
        "en": "Answers with votes, {period}: {answers}",
        "fr": "Réponses ayant reçu des votes, {period} : {answers}",
    },
    "feedback_articles": {"en": "Most flagged articles", "fr": "Articles les plus signalés"},
    "feedback_questions": {"en": "Most flagged questions", "fr": "Questions les plus signalées"},
    "feedback_none": {"en": "No votes yet.", "fr": "Aucun vote pour l’instant."},
    "feedback_reset": {
        "en": "Votes since {date} change the answers (earlier ones were reset).",
        "fr": "Les votes depuis le {date} modifient les réponses (les précédents ont été réinitialisés).",
    },
    "feedback_off": {
        "en": "Feedback is turned off on this bot.",
        "fr": "Les avis sont désactivés sur ce bot.",
    },
    "minutes": {"en": "{n} min", "fr": "{n} min"},
    "seconds": {"en": "{n} s", "fr": "{n} s"},
}


def lang_of(locale: object) -> str:
    """Map a Discord locale ("fr", "en-US") or a language code to a language we have strings for."""
    value = str(getattr(locale, "value", locale) or "en").lower()
    return "fr" if value.startswith("fr") else "en"


def t(key: str, lang: str = "en", **values: object) -> str:
    table = STRINGS[key]
    text = table.get(lang_of(lang)) or table["en"]
    return text.format(**values) if values else text
