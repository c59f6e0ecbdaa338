"""The store against a real SQLite file, as the api and the agent worker share it."""

from __future__ import annotations

import threading
from pathlib import Path

from interviewer.store.repository import Store


def _open_at_once(url: str, openers: int) -> tuple[list[Store], list[BaseException]]:
    start = threading.Barrier(openers)
    stores: list[Store] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        start.wait(timeout=10)
        try:
            stores.append(Store(url))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(openers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return stores, errors


def test_processes_opening_a_new_database_at_once_all_get_the_schema(tmp_path: Path) -> None:
    # The api, the agent worker and the CLI each open the store at startup; on a fresh database they race
    # to create the tables and to switch the file to WAL. Without the retries, most rounds lost an opener to
    # "already exists" or "database is locked".
    for round_number in range(10):
        stores, errors = _open_at_once(f"sqlite:///{tmp_path / f'round-{round_number}.sqlite'}", openers=4)
        assert not errors, f"round {round_number}: {errors[0]!r}"
        assert len(stores) == 4
        stores[0].ping()
        assert stores[0].list_interviews("nobody") == []
        for store in stores:
            store.close()
