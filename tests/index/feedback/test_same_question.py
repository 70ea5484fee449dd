"""How near two questions must be for a "wrong quote" vote on one to demote the passage for the other, with the
real models: Profile.same_question (index/tuning.py) is read from these pairs (`pytest -s` prints the cosines).

Rewordings of one question should reach it, unrelated questions never; another question on the same story is
the hard case (the embeddings see the story more than the question): at most one of them may reach it.
"""

from __future__ import annotations

import numpy as np
import pytest

from index.embedding import identity_of
from index.tuning import profile_for

SAME = [  # one question, typed otherwise
    ("How much will the harbour bridge repairs cost?", "how much will the harbour bridge repairs cost"),
    ("When did Ariane 6 first fly?", "When did Ariane 6 first fly ?!"),
    ("Qui a gagné le prix Nobel de physique 2024 ?", "qui a gagné le prix nobel de physique 2024"),
]
NEAR = [  # rewordings
    ("How much will the harbour bridge repairs cost?", "How much do the harbour bridge repairs cost?"),
    ("How much will the harbour bridge repairs cost?", "What will the repairs of the harbour bridge cost?"),
    ("Combien a coûté la piste cyclable de Lyon ?", "Quel a été le coût de la piste cyclable de Lyon ?"),
    ("Combien a coûté la piste cyclable de Lyon ?", "Combien a coûté la nouvelle piste cyclable à Lyon ?"),
    ("Combien a coûté la piste cyclable de Lyon ?", "combien a coute la piste cyclable de lyon"),
    ("When did Ariane 6 first fly?", "When was the first flight of Ariane 6?"),
    ("Quand a eu lieu le premier vol d'Ariane 6 ?", "Quand Ariane 6 a-t-elle volé pour la première fois ?"),
    ("Who won the Euro 2024 final?", "Who won the final of Euro 2024?"),
    ("Qui a gagné le prix Nobel de physique 2024 ?", "Qui a reçu le Nobel de physique en 2024 ?"),
]
STORY = [  # another question on the same story: its passage may well be right
    ("How much will the harbour bridge repairs cost?", "How long will the harbour bridge be closed?"),
    ("Combien a coûté la piste cyclable de Lyon ?", "Quelle est la longueur de la piste cyclable de Lyon ?"),
    ("When did Ariane 6 first fly?", "What did Ariane 6 carry on its commercial flight?"),
    ("Who won the Euro 2024 final?", "Who scored in the Euro 2024 final?"),
    ("Qui a gagné le prix Nobel de physique 2024 ?", "Pourquoi le Nobel de physique 2024 a-t-il été attribué ?"),
    ("De combien la BCE a-t-elle baissé ses taux en juin 2024 ?", "Quand la BCE a-t-elle baissé ses taux ?"),
]
UNRELATED = [
    ("How much will the harbour bridge repairs cost?", "Who won the Euro 2024 final?"),
    ("Combien a coûté la piste cyclable de Lyon ?", "Quand Notre-Dame a-t-elle rouvert ?"),
    ("When did Ariane 6 first fly?", "How much did the Fed cut rates in September 2024?"),
    ("Qui a gagné le prix Nobel de physique 2024 ?", "Combien de médailles d'or Léon Marchand a-t-il gagnées ?"),
    ("Who won the UK general election in 2024?", "When does the EU AI Act enter into force?"),
]


def cosines(embedder, pairs) -> list[float]:
    out = []
    for a, b in pairs:
        v = embedder.encode_queries([a, b])
        out.append(float(v[0] @ v[1] / np.linalg.norm(v[0]) / np.linalg.norm(v[1])))
    return out


@pytest.mark.parametrize("which", ["real_embedder", "minilm_embedder"])
def test_rewordings_reach_the_threshold_and_other_questions_do_not(request, which):
    embedder = request.getfixturevalue(which)
    threshold = profile_for(identity_of(embedder)).same_question
    found = {name: cosines(embedder, pairs) for name, pairs in
             (("same", SAME), ("near", NEAR), ("story", STORY), ("unrelated", UNRELATED))}  # fmt: skip
    for name, values in found.items():
        print(f"{embedder.name} {name}: " + " ".join(f"{v:.4f}" for v in values), f"(threshold {threshold})")
    assert min(found["same"]) >= threshold
    assert sum(v >= threshold for v in found["near"]) >= len(NEAR) / 2
    assert sum(v >= threshold for v in found["story"]) <= 1
    assert max(found["unrelated"]) < threshold
