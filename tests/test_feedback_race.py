"""👍 and 👎 tapped at the same moment: one vote stays, the later one, and neither tap fails."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from acuerdo.index import Library
from acuerdo.index.models import Feedback

ROUNDS = 15


def test_two_taps_at_once_leave_one_vote_and_no_error(library: Library) -> None:
    failures: list[BaseException] = []
    for _ in range(ROUNDS):
        answer = library.ask("robo de combustible", user_id=1, chat_id=1)
        assert answer.query_id is not None
        library.flush_log()
        start = threading.Barrier(2)

        def tap(
            helpful: bool, query_id: int = answer.query_id, start: threading.Barrier = start
        ) -> None:
            start.wait()
            try:
                assert library.feedback(query_id, user_id=1, chat_id=1, helpful=helpful)
            except BaseException as exc:  # reported below, with the others
                failures.append(exc)

        taps = [threading.Thread(target=tap, args=(helpful,)) for helpful in (True, False)]
        for thread in taps:
            thread.start()
        for thread in taps:
            thread.join()
    assert failures == []
    with library.sessions() as session:
        votes = session.execute(
            select(Feedback.query_id, func.count()).group_by(Feedback.query_id)
        ).all()
    assert len(votes) == ROUNDS and all(count == 1 for _, count in votes)
