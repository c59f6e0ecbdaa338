from interviewer.interview.analysis import FollowUpKind, Ownership, analyse_answer, follow_up_kind

COMPLETE = (
    "At my last company I was responsible for the checkout service. I rewrote the retry logic and added "
    "a queue, and as a result failed payments dropped from 4 percent to 0.5 percent within two weeks."
)


def test_complete_answer_needs_no_follow_up() -> None:
    analysis = analyse_answer(COMPLETE)
    assert analysis.result and analysis.has_numbers and analysis.action
    assert analysis.ownership is Ownership.individual
    assert follow_up_kind(analysis, frozenset()) is None


def test_vague_answer_gets_a_follow_up_for_an_example() -> None:
    assert follow_up_kind(analyse_answer("I am good at systems."), frozenset()) is FollowUpKind.example


def test_only_we_asks_what_they_did() -> None:
    text = (
        "Our team had a slow API so we investigated the database and we added indexes and caching across "
        "the services, and in the end we improved latency by 40 percent for our biggest customers."
    )
    analysis = analyse_answer(text)
    assert analysis.ownership is Ownership.team_only
    assert follow_up_kind(analysis, frozenset()) is FollowUpKind.ownership


def test_no_outcome_asks_for_result_then_numbers() -> None:
    text = (
        "When I joined the team the deploys were manual, so I wrote a pipeline in GitHub Actions and I "
        "set up staging environments and I talked to every engineer about how they wanted to release."
    )
    analysis = analyse_answer(text)
    assert not analysis.result
    assert follow_up_kind(analysis, frozenset()) is FollowUpKind.result
    assert follow_up_kind(analysis, frozenset({FollowUpKind.result})) is FollowUpKind.metrics


def test_result_without_numbers_asks_how_it_was_measured() -> None:
    text = (
        "At my previous job I led the migration to the new billing system. I planned the cut-over and I "
        "ran the rehearsals myself, and as a result the launch went smoothly and customers were happy."
    )
    analysis = analyse_answer(text)
    assert analysis.result and not analysis.has_numbers
    assert follow_up_kind(analysis, frozenset()) is FollowUpKind.metrics


def test_hedging_and_stop_requests_are_detected() -> None:
    assert analyse_answer("Maybe, I think, I guess it sort of worked").hedges >= 3
    assert analyse_answer("Sorry, can we stop the interview here?").wants_to_stop
    assert analyse_answer("Let us stop here. Please end the interview.").wants_to_stop
    assert not analyse_answer("We had to stop the deploy and roll back.").wants_to_stop
