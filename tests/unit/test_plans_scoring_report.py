import pytest

from interviewer.interview.director import Director, StepKind
from interviewer.interview.plans import UnknownRole, list_roles, load_role, plan_from_job_description
from interviewer.interview.report import TranscriptLine, build_report, report_html, report_markdown
from interviewer.interview.scoring import Recommendation, recommendation_for, score_interview

REQUIRED_ROLES = {"backend-engineer", "product-manager", "data-scientist", "customer-success-manager"}


def test_bundled_roles_meet_the_plan_shape() -> None:
    plans = {plan.id: plan for plan in list_roles()}
    assert set(plans) >= REQUIRED_ROLES
    for plan in plans.values():
        assert 4 <= len(plan.competencies) <= 6
        assert {c.kind for c in plan.competencies} == {"behavioural", "role"}
        ids = [q.id for c in plan.competencies for q in c.questions] + [q.id for q in plan.warmup]
        assert len(ids) == len(set(ids))
        for competency in plan.competencies:
            assert 2 <= len(competency.questions) <= 3 and competency.probes
            assert sorted(competency.rubric) == [1, 2, 3, 4, 5]


def test_unknown_role_names_the_known_ones() -> None:
    with pytest.raises(UnknownRole, match="backend-engineer"):
        load_role("astronaut")


def test_job_description_plan_is_deterministic_and_relevant() -> None:
    jd = "Senior Data Scientist\nYou will run A/B experiments, build machine learning models in Python, SQL."
    first, second = plan_from_job_description(jd), plan_from_job_description(jd)
    assert first == second
    ids = [c.id for c in first.competencies]
    assert {"statistics", "machine-learning"} <= set(ids)
    assert any(c.kind == "behavioural" for c in first.competencies)
    assert first.title == "Senior Data Scientist"


def _interview(answer: str) -> tuple[Director, list[TranscriptLine]]:
    director = Director(load_role("backend-engineer"), 20)
    transcript: list[TranscriptLine] = []
    now = 0.0
    while True:
        step = director.next_step(now)
        if step.kind in (StepKind.close, StepKind.end):
            break
        transcript.append(TranscriptLine("agent", step.text or ""))
        director.record_answer(step.question_id or "", answer, now)
        transcript.append(TranscriptLine("candidate", answer))
        now += 60
    return director, transcript


STRONG = (
    "At my last company I was responsible for our payments API. I designed a new idempotency layer and "
    "I rolled it out over two weeks. As a result duplicate charges dropped from 120 a month to zero."
)


def test_scores_follow_the_evidence_and_quotes_are_verbatim() -> None:
    strong_director, transcript = _interview(STRONG)
    weak_director, _ = _interview("We did some stuff, maybe.")
    strong = score_interview(strong_director.plan, strong_director.answers)
    weak = score_interview(weak_director.plan, weak_director.answers)
    assert strong.overall_score > weak.overall_score
    assert strong.recommendation in (Recommendation.strong_hire, Recommendation.hire)
    assert weak.recommendation in (Recommendation.no_hire, Recommendation.lean_no_hire)
    candidate_text = [line.text for line in transcript if line.speaker == "candidate"]
    for competency in strong.competencies:
        assert competency.evidence
        for evidence in competency.evidence:
            assert any(evidence.quote in text for text in candidate_text)


def test_recommendation_thresholds() -> None:
    assert recommendation_for(4.5, 5, 5) is Recommendation.strong_hire
    assert recommendation_for(2.0, 5, 5) is Recommendation.no_hire
    assert recommendation_for(3.6, 3, 5) is Recommendation.hire
    # Too little covered to recommend anything, either way.
    assert recommendation_for(4.5, 1, 5) is None
    assert recommendation_for(1.0, 2, 5) is None
    assert recommendation_for(0.0, 0, 5) is None


def test_a_report_of_one_competency_in_five_makes_no_recommendation_and_says_why() -> None:
    director = Director(load_role("backend-engineer"), 20)
    now = 0.0
    while director.main_questions_asked("system-design") == 0:
        step = director.next_step(now)
        director.record_answer(step.question_id or "", STRONG, now)
        now += 30
    director.record_answer(director.current.question_id or "", STRONG, now)  # type: ignore[union-attr]
    director.request_stop()
    scorecard = score_interview(
        director.plan,
        director.answers,
        asked=director.covered_competencies(),
        end_reason="candidate asked to stop",
    )
    report = build_report(
        interview_id="i-1",
        plan=director.plan,
        duration_minutes=20,
        scorecard=scorecard,
        transcript=[],
        refused_tool_calls=0,
        end_reason="candidate asked to stop",
    )
    assert report.overall.recommendation is None
    assert report.overall.verdict == "not enough evidence: 1 of 5 competencies covered"
    assert report.coverage is not None and not report.coverage.enough
    assert [n.reason for n in report.not_reached] == ["the candidate ended the interview before it"] * 4
    assert "no recommendation" in report_markdown(report).lower()


def test_report_renders_as_json_markdown_and_escaped_html() -> None:
    director, transcript = _interview(STRONG + " <script>alert(1)</script>")
    scorecard = score_interview(director.plan, director.answers)
    report = build_report(
        interview_id="i-1",
        plan=director.plan,
        duration_minutes=20,
        scorecard=scorecard,
        transcript=transcript,
        refused_tool_calls=1,
        end_reason="all competencies covered",
    )
    assert report.guard.refused_tool_calls == 1
    assert {c.id for c in report.competencies} == {c.id for c in director.plan.competencies}
    assert report.overall.recommendation in set(Recommendation)
    markdown = report_markdown(report)
    assert markdown.startswith("# Interview report") and "## Transcript" in markdown
    page = report_html(report)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "http" not in page  # self-contained: nothing to fetch
