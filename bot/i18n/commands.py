"""French localizations of slash-command descriptions, through discord.py's app-command translator."""

from __future__ import annotations

import discord
from discord import app_commands

FRENCH = {
    "Answer a question with quotes from the articles": "Répondre à une question avec des citations des articles",
    "Your question": "Votre question",
    "Only articles whose source, link or title contains this": "Seulement les articles dont la source, le lien ou le titre contient ceci",
    "Only articles published on or after this date (2025-05 or 2025-05-12)": "Seulement les articles publiés à partir de cette date (2025-05 ou 2025-05-12)",
    "Only articles published on or before this date": "Seulement les articles publiés jusqu’à cette date",
    "Show the answer to you only": "Réponse visible par vous seul",
    "List the passages that match some words": "Lister les passages qui correspondent à des mots",
    "Words to look for": "Mots à chercher",
    "How many passages": "Nombre de passages",
    "Browse the indexed articles, newest first": "Parcourir les articles indexés, les plus récents d’abord",
    "Words in the title or source": "Mots du titre ou de la source",
    "What the index holds and how the bot is doing": "Ce que contient l’index et l’état du bot",
    "Rebuild the index from the articles folder (admins)": "Reconstruire l’index depuis le dossier des articles (admins)",
    "Rebuild everything: repairs the index, moves it to the default model, allows large removals":
        "Tout reconstruire : répare l’index, passe au modèle par défaut, autorise les gros retraits",
    "Fetch one article page and index it (admins)": "Récupérer une page d’article et l’indexer (admins)",
    "Address of the article (https://…)": "Adresse de l’article (https://…)",
    "How a story unfolded: dated quotes, oldest first": "Comment une histoire s’est déroulée : citations datées, des plus anciennes aux plus récentes",
    "The story, in a few words": "L’histoire, en quelques mots",
    "Get the new articles about a topic as they arrive": "Recevoir les nouveaux articles sur un sujet dès leur arrivée",
    "The topic, in a few words": "Le sujet, en quelques mots",
    "Where to post them (this channel by default)": "Où les publier (ce salon par défaut)",
    "Send them to you by direct message instead": "Vous les envoyer plutôt en message privé",
    "Stop following a topic": "Ne plus suivre un sujet",
    "The topic to stop following": "Le sujet à ne plus suivre",
    "List your follows (admins: the whole server's)": "Lister vos suivis (admins : ceux de tout le serveur)",
    "What members said about the answers (admins)": "Ce que les membres ont dit des réponses (admins)",
    "Only the votes of the last days": "Seulement les votes des derniers jours",
}


class NewsdeskTranslator(app_commands.Translator):
    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:  # fmt: skip
        if locale is discord.Locale.french:
            return FRENCH.get(string.message)
        return None
