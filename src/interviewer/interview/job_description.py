"""Plans from any job description: the title read from the text, competencies ranked from a broad bank.

The bank is every bundled role's competencies plus the role families in `interview/bank/` (SRE, frontend,
mobile, data engineering, product design, sales, support, people management). Ranking is BM25 (rank-bm25)
over each competency's name, keywords, questions and family, which rewards the rare, specific words of a job
description ("SLO", "Kubernetes") over the ones every description shares. Deterministic: ties break by id.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict
from rank_bm25 import BM25Okapi

from interviewer.interview.plans import Competency, RolePlan, list_roles, load_role

DEFAULT_SIZE = 5
MAX_ALTERNATIVES = 8


class Family(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    family: str
    title: str
    keywords: tuple[str, ...] = ()
    competencies: tuple[Competency, ...]


@dataclass(frozen=True)
class _Entry:
    competency: Competency
    family_title: str
    document: tuple[str, ...]


class UnknownCompetency(LookupError):
    def __init__(self, competency_id: str) -> None:
        super().__init__(f"unknown competency {competency_id!r}")
        self.competency_id = competency_id


_WORD = re.compile(r"[a-z0-9][a-z0-9+#]*")
_STOPWORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it"),
        *("of", "on", "or", "our", "that", "the", "their", "they", "this", "to", "we", "what", "will"),
        *("with", "you", "your", "who", "how", "did", "do", "about", "any", "time", "tell", "me", "describe"),
    }
)
RELEVANT_FRACTION = 0.2  # a competency scoring under this share of the best one is not what the job is about
FALLBACK_TITLE = "Generalist"


def tokens(text: str) -> list[str]:
    """Words, crudely singular, plus adjacent pairs so "error budget" outweighs "error" and "budget"."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    words = [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]
    return words + [f"{a}_{b}" for a, b in itertools.pairwise(words)]


@cache
def families() -> tuple[Family, ...]:
    found = []
    for entry in sorted(resources.files("interviewer.interview.bank").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            found.append(Family.model_validate(yaml.safe_load(entry.read_text(encoding="utf-8"))))
    return tuple(found)


@cache
def _bank() -> tuple[_Entry, ...]:
    entries: dict[str, _Entry] = {}

    def add(competency: Competency, family_title: str, family_words: Sequence[str]) -> None:
        if competency.id in entries:
            return  # a behavioural competency shared by several roles: the first wording wins
        text = " ".join(
            [
                competency.name,
                *competency.keywords,
                *competency.keywords,  # the curated words count double
                *(q.text for q in competency.questions),
                *competency.probes,
                family_title,
                *family_words,
            ]
        )
        entries[competency.id] = _Entry(competency, family_title, tuple(tokens(text)))

    for plan in list_roles():
        for competency in plan.competencies:
            add(competency, plan.title, [plan.summary])
    for family in families():
        for competency in family.competencies:
            add(competency, family.title, family.keywords)
    return tuple(entries.values())


@cache
def _index() -> BM25Okapi:
    return BM25Okapi([list(entry.document) for entry in _bank()])


def bank() -> list[Competency]:
    return [entry.competency for entry in _bank()]


def rank(text: str) -> list[tuple[Competency, float]]:
    """Every competency in the bank with its BM25 score for `text`, best first, ties by id."""
    scores = _index().get_scores(tokens(text))
    ranked = sorted(
        zip(_bank(), scores, strict=True), key=lambda pair: (-float(pair[1]), pair[0].competency.id)
    )
    return [(entry.competency, float(score)) for entry, score in ranked]


def choose(text: str, size: int = DEFAULT_SIZE) -> list[Competency]:
    """The `size` best competencies the description is about, and at least one behavioural: every hiring
    manager asks how a person works with others. A short description that names fewer topics is topped up
    with behavioural competencies, which fit any job, rather than with unrelated role skills."""
    ranked = rank(text)
    best = ranked[0][1]
    relevant = [c for c, score in ranked if score > 0 and score >= RELEVANT_FRACTION * best]
    behavioural = [c for c, _score in ranked if c.kind == "behavioural"]
    chosen = relevant[:size]
    if not any(c.kind == "behavioural" for c in chosen):
        chosen = [*chosen[: size - 1], behavioural[0]]
    for competency in behavioural:
        if len(chosen) >= size:
            break
        if competency not in chosen:
            chosen.append(competency)
    return chosen


# -- the title ------------------------------------------------------------------------------------------

_LABELLED = re.compile(
    r"^\s*(?:job\s+title|title|position|role)\s*[:\-\u2013\u2014]\s*(?P<title>.+?)\s*$", re.I | re.M
)
_TITLE_WORD = r"(?:[A-Z][\w/&+.-]*|of|and|&|for)"
_PHRASED = re.compile(
    r"\b(?:we(?:'re| are) (?:hiring|looking for|seeking)|join (?:us|our team|the team) as|hiring|as)"
    rf"\s+(?:an?\s+|our (?:next|first|new)\s+)?(?P<title>(?:[A-Z][\w/&+.-]*)(?:\s+{_TITLE_WORD}){{0,6}})"
)
_GENERIC = re.compile(
    r"^(about( us| the (role|job|team|company))?|job description|overview|the role|who we are|"
    r"description|summary|responsibilities|requirements)\W*$",
    re.I,
)
_CUT = re.compile(r"\s+(?:[-\u2013\u2014|@(]|at\s|in\s).*$")


def _clean(title: str) -> str:
    title = _CUT.sub("", title.strip()).strip(" .:,;")
    title = re.sub(r"\s+(role|position|job)$", "", title, flags=re.I)
    words = title.split()
    while words and words[-1].lower() in ("of", "and", "for", "&"):
        words.pop()
    return " ".join(words)


def title_from(text: str) -> str | None:
    """The job's title as the description states it, or None when it does not."""
    labelled = _LABELLED.search(text)
    if labelled and 0 < len(_clean(labelled.group("title"))) <= 80:
        return _clean(labelled.group("title"))
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first_clean = _clean(first.lstrip("#*- ").rstrip("*"))
    if (
        first_clean
        and len(first_clean.split()) <= 8
        and not first.rstrip().endswith((".", "!", "?", ":"))
        and not _GENERIC.match(first)
        and not _GENERIC.match(first_clean)
        and first_clean[0].isupper()
    ):
        return first_clean
    phrased = _PHRASED.search(text)
    if phrased:
        cleaned = _clean(phrased.group("title"))
        if len(cleaned.split()) >= 2 or cleaned.isupper():
            return cleaned
    return None


def best_family_title(text: str) -> str:
    """The role family the description reads most like: a title when the text states none."""
    totals: dict[str, float] = {}
    for entry, score in zip(_bank(), _index().get_scores(tokens(text)), strict=True):
        totals[entry.family_title] = totals.get(entry.family_title, 0.0) + max(0.0, float(score))
    best = min(totals, key=lambda title: (-totals[title], title))
    return best if totals[best] > 0 else FALLBACK_TITLE


# -- plans ----------------------------------------------------------------------------------------------


def plan_from_job_description(text: str, *, title: str | None = None, size: int = DEFAULT_SIZE) -> RolePlan:
    chosen = choose(text, size)
    derived = title or title_from(text) or best_family_title(text)
    return RolePlan(
        id="custom",
        title=derived,
        summary="Built from the job description: " + ", ".join(c.name for c in chosen) + ".",
        warmup=load_role("backend-engineer").warmup,
        competencies=tuple(chosen),
    )


def alternatives(plan: RolePlan, text: str, limit: int = MAX_ALTERNATIVES) -> list[Competency]:
    """Competencies the candidate could add: the best-ranked ones the plan does not have yet."""
    have = {c.id for c in plan.competencies}
    return [c for c, _score in rank(text) if c.id not in have][:limit]


def with_competencies(plan: RolePlan, competency_ids: Sequence[str]) -> RolePlan:
    """The plan with the candidate's own choice of competencies (from the plan or the bank), in order."""
    known = {c.id: c for c in (*plan.competencies, *bank())}
    chosen: list[Competency] = []
    for competency_id in dict.fromkeys(competency_ids):
        if competency_id not in known:
            raise UnknownCompetency(competency_id)
        chosen.append(known[competency_id])
    return RolePlan(
        id=plan.id, title=plan.title, summary=plan.summary, warmup=plan.warmup, competencies=tuple(chosen)
    )
