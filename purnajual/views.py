"""Read models kept in memory by tailing the service's own event log.

A view reads the log after the last position it has seen, applies each event,
and remembers the new position. It catches up before every query, so a
client reads its own writes, and every replica of a service builds the same
view from the same log. Rebuilding a view is replaying the log from zero.

Known limit: the whole view lives in memory and is rebuilt at start. That is
instant for the few thousand requests a year the center receives; past a few
hundred thousand requests, keep the view in a table written in the same
transaction as the tracking record instead.
"""

from __future__ import annotations

import copy
import threading
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from purnajual.persistence import ServiceApplication


class LogView:
    """Base of the in-memory views: rows by id, kept by ``apply``."""

    def __init__(self, app: ServiceApplication) -> None:
        self.app = app
        self.position = 0
        self.rows: dict[UUID, Any] = {}
        self._lock = threading.Lock()

    def catch_up(self) -> None:
        """Applies every event committed since the last call."""
        with self._lock:
            while True:
                page = list(self.app.events_after(self.position))
                if not page:
                    return
                for position, domain_event in page:
                    self.apply(domain_event)
                    self.position = position

    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        raise NotImplementedError

    def request_id_of(self, reference: str) -> UUID | None:
        """The request a reference names, in a view whose rows carry both."""
        self.catch_up()
        wanted = reference.strip().upper()
        with self._lock:
            for row in self.rows.values():
                if str(getattr(row, "reference", "")).upper() == wanted:
                    found: UUID = row.request_id
                    return found
        return None

    def snapshot(self) -> dict[UUID, Any]:
        """A copy of the rows, caught up, for comparing two views."""
        self.catch_up()
        with self._lock:
            return copy.deepcopy(self.rows)

    def rebuilt(self) -> tuple[LogView, bool]:
        """A new view of the same kind built from the whole log, and whether it
        equals this one at the same position of the log."""
        fresh = type(self)(self.app)
        while True:
            live, again = self.snapshot(), fresh.snapshot()
            if fresh.position == self.position:
                return fresh, again == live
