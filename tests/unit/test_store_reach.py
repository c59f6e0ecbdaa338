"""When an expired lease may be taken to mean a dead job: not while the store is away, and not until the
live jobs have had a full lease to renew theirs after it came back."""

from __future__ import annotations

from interviewer.agent.recovery import TRUST_LEASES_AFTER_SECONDS, StoreReach


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_store_never_seen_away_is_trusted_at_once() -> None:
    reach = StoreReach(clock=Clock())
    reach.reached()
    assert reach.leases_trusted


def test_after_an_outage_leases_are_trusted_only_once_a_full_lease_has_passed() -> None:
    clock = Clock()
    reach = StoreReach(clock=clock)
    reach.reached()
    reach.failed()
    assert not reach.leases_trusted, "every lease ran out while nobody could renew"
    clock.now += 60
    assert not reach.leases_trusted, "still away"
    reach.reached()
    assert not reach.leases_trusted, "just back: the live jobs have not renewed yet"
    clock.now += TRUST_LEASES_AFTER_SECONDS - 0.1
    reach.reached()  # seen again: the grace runs from the first sight, not the latest
    assert not reach.leases_trusted
    clock.now += 0.1
    assert reach.leases_trusted


def test_a_second_outage_starts_the_wait_again() -> None:
    clock = Clock()
    reach = StoreReach(clock=clock)
    reach.failed()
    reach.reached()
    clock.now += TRUST_LEASES_AFTER_SECONDS
    assert reach.leases_trusted
    reach.failed()
    reach.reached()
    assert not reach.leases_trusted
