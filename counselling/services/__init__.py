"""Every write of the desks, one module per use case: `sessions` (open, pause, resume, close),
`calling` (call next, call a ticket, recall, no-show, put back), `interviews` (start, finish,
hand back), `day_close` (desks forgotten overnight) and `take_away`. Their public names are
re-exported here: `from counselling import services; services.call_next(…)`.

Concurrency, by design:
- Each action on a desk first locks its DeskSession row, so a double click or a second browser
  tab waits for the first and then sees the new state (and is refused with a clear message).
- Call next locks the oldest waiting visit with SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL:
  two desks pressing at the same instant get two different visitors, without waiting on each
  other. SQLite (the embedded default) runs IMMEDIATE transactions, which serialise writers.
- Database constraints back all of it: one open session per desk and per counsellor, one open
  interview per counsellor and per visit, one visitor held per desk.
"""

from .calling import (
    _call_next_at,
    _queue_head,
    call_next,
    call_ticket,
    mark_no_show,
    put_back,
    recall,
    themes_served_elsewhere,
)
from .day_close import close_forgotten_desks
from .interviews import (
    FinishedAndCalled,
    cannot_finish,
    finish_and_call_next,
    finish_interview,
    hand_back,
    start_interview,
)
from .sessions import (
    CounsellingError,
    close_desk,
    current_visit,
    open_desk,
    pause_desk,
    resume_desk,
)
from .take_away import (
    add_event_to_take_away,
    add_to_take_away,
    remove_event_from_take_away,
    remove_from_take_away,
)

__all__ = [
    "CounsellingError",
    "FinishedAndCalled",
    "_call_next_at",
    "_queue_head",
    "add_event_to_take_away",
    "add_to_take_away",
    "call_next",
    "call_ticket",
    "cannot_finish",
    "close_desk",
    "close_forgotten_desks",
    "current_visit",
    "finish_and_call_next",
    "finish_interview",
    "hand_back",
    "mark_no_show",
    "open_desk",
    "pause_desk",
    "put_back",
    "recall",
    "remove_event_from_take_away",
    "remove_from_take_away",
    "resume_desk",
    "start_interview",
    "themes_served_elsewhere",
]
