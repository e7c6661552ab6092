"""Folding text for accent- and case-insensitive matching ("Métiers" → "metiers"), and the words
of a query that carry meaning: stop words dropped, each word reduced to the prefix its other
forms share ("infirmières" → "infirmier", which "infirmier" and "infirmière" both start with)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9]+")
_TOKEN = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.casefold().replace("œ", "oe").replace("æ", "ae")).strip()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def folded_words(folded: str) -> list[str]:
    """The words of text that is folded already (the `folded` column)."""
    return _WORD.findall(folded)


# PostgreSQL's French stop words (its `french` snowball list, which the search configuration
# drops from queries) and its English ones, folded: both databases drop the same words from a
# query. English words that are also French words people search for stay ("an", "don", "but"),
# and so does "it" (IT, informatique).
_FRENCH = """
au aux avec ce ces dans de des du elle en et eux il je la le leur lui ma mais me même mes moi mon
ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos
votre vous c d j l à m n s t y été étée étées étés étant étante étants étantes suis es est sommes
êtes sont serai seras sera serons serez seront serais serait serions seriez seraient étais était
étions étiez étaient fus fut fûmes fûtes furent sois soit soyons soyez soient fusse fusses fût
fussions fussiez fussent ayant ayante ayantes ayants eu eue eues eus ai as avons avez ont aurai
auras aura aurons aurez auront aurais aurait aurions auriez auraient avais avait avions aviez
avaient eut eûmes eûtes eurent aie aies ait ayons ayez aient eusse eusses eût eussions eussiez
eussent elles ils leurs cet cette cela ceci ça quel quelle quels quelles comment où mes
"""
_ENGLISH = """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her
hers herself its itself they them their theirs themselves what which who whom this that these
those am is are was were be been being have has had having do does did doing a the and if or
because until while of at by for with about against between into through during before after
above below to from up down in out on off over under again further then once here there when
where why how all any both each few more most other some such no nor not only own same so than
too very s t can will just should now
"""
STOP_WORDS = frozenset(words(_FRENCH + _ENGLISH))
# The words that make a search a question ("comment devenir électricien ?", "how to find a
# job"): dropped too, unless the query has nothing else ("devenir" alone is looked for).
QUESTION_WORDS = frozenset(
    words(
        "comment pourquoi quoi devenir trouver faire veux voudrais souhaite aimerais "
        "besoin how why find become want looking"
    )
)

# Endings of the feminine, the plural and the agent nouns, and the prefix their forms share:
# "animatrice" and "animateur" both start with "animat", "vendeuse" and "vendeur" with "vendeu".
_ENDINGS = (
    ("trice", "t"),
    ("teur", "t"),
    ("iere", "ier"),
    ("ere", "er"),
    ("euse", "eu"),
    ("eur", "eu"),
    ("enne", "en"),
    ("elle", "el"),
    ("ive", "i"),
    ("if", "i"),
)
_SHORTEST_STEM = 4


def stem(word: str) -> str:
    """The prefix that the other forms of a folded word start with ("métiers" → "metier",
    "infirmière" → "infirmier", "travaux" → "trava"). Cheap and deliberately light: it only
    removes what a prefix cannot cover (a plural, a feminine ending), never a word's root."""
    if len(word) <= _SHORTEST_STEM or word.isdigit():
        return word
    if word.endswith("aux"):
        word = word[:-2]
    elif word[-1] in "sx" and not word.endswith("ss"):
        word = word[:-1]
    for ending, replacement in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) + len(replacement) >= _SHORTEST_STEM:
            return word[: -len(ending)] + replacement
    return word


@dataclass(frozen=True)
class Term:
    """One meaningful word of a query: as typed (lower case, for messages), folded, and the
    prefix a matching word starts with."""

    text: str
    word: str
    stem: str


def typed_words(query: str) -> list[tuple[str, str]]:
    """Each word of a query as typed (lower case) with its folded form."""
    return [(token, word) for token in _TOKEN.findall(query.casefold()) for word in words(token)]


# A search looks for this many words at most: each costs a lookup, so a pasted paragraph would
# cost a public page many searches' worth.
MAX_TERMS = 8


def query_terms(query: str, limit: int = MAX_TERMS) -> list[Term]:
    """The words of a query a search looks for, in order, each once, `limit` at most: no stop
    words ("un", "de", "the"…), no lone letters (the "d" of "d'embauche"), no question words
    unless there is nothing else."""
    terms: list[Term] = []
    seen: set[str] = set()
    for token, word in typed_words(query):
        if word in seen or word in STOP_WORDS or (len(word) < 2 and not word.isdigit()):
            continue
        seen.add(word)
        terms.append(Term(token, word, stem(word)))
    return ([term for term in terms if term.word not in QUESTION_WORDS] or terms)[:limit]
