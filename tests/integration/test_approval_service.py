"""Approval as a process, on PostgreSQL, with its own nats-server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import httpx
import pytest

from purnajual.contracts import RejectionLetterIssued, RequestApproved
from tests.builders import request_submitted
from tests.conftest import ServiceFactory
from tests.support import Broker, NatsServer, ServiceProcess, wait_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def approval(
    service_process: ServiceFactory, database_url: str, fresh_nats: NatsServer
) -> ServiceProcess:
    service = service_process(
        "approval", DATABASE_URL=database_url, NATS_URL=fresh_nats.url
    )
    service.start()
    return service


def pending(approval: ServiceProcess, broker: Broker, count: int) -> list[str]:
    """Submits ``count`` requests upstream and waits for them in the inbox."""
    ids = []
    for position in range(1, count + 1):
        submitted = request_submitted()
        broker.publish("intake", position, submitted)
        ids.append(str(submitted.request_id))
    wait_for(
        lambda: (
            {
                row["request_id"]
                for row in approval.get("/approvals", status="pending").json()
            }
            >= set(ids)
        )
    )
    return ids


def test_an_approval_is_published_with_what_scheduling_needs(
    approval: ServiceProcess, fresh_nats: NatsServer
) -> None:
    broker = Broker(fresh_nats.url)
    [request_id] = pending(approval, broker, 1)

    response = approval.post(
        f"/approvals/{request_id}/approve",
        json={"decided_by": "Kepala Balai", "disposition": "Jadwalkan."},
    )

    assert response.status_code == 200
    published = wait_for(lambda: broker.envelopes("APPROVAL"))
    assert isinstance(published[0].data, RequestApproved)
    assert published[0].data.request.institution == "Dinas Peternakan Kab. Garut"
    assert approval.get("/approvals", status="pending").json() == []


def test_a_second_decision_is_a_409_with_the_current_status(
    approval: ServiceProcess, fresh_nats: NatsServer
) -> None:
    [request_id] = pending(approval, Broker(fresh_nats.url), 1)
    approval.post(
        f"/approvals/{request_id}/approve",
        json={"decided_by": "Kepala Balai", "disposition": "Jadwalkan."},
    )

    response = approval.post(
        f"/approvals/{request_id}/reject",
        json={"decided_by": "Kepala Balai", "reason": "x"},
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["current_status"] == "approved"


def test_approve_and_reject_at_the_same_moment_decide_once_in_20_rounds(
    approval: ServiceProcess, fresh_nats: NatsServer
) -> None:
    broker = Broker(fresh_nats.url)
    ids = pending(approval, broker, 20)

    def decide(request_id: str, verb: str) -> int:
        body = {"decided_by": "Kepala Balai", "disposition": "Ya.", "reason": "Tidak."}
        body.pop("reason" if verb == "approve" else "disposition")
        return httpx.post(
            f"{approval.url}/approvals/{request_id}/{verb}", json=body, timeout=10
        ).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(
            pool.map(
                lambda job: decide(*job),
                [(i, v) for i in ids for v in ("approve", "reject")],
            )
        )

    assert sorted(outcomes) == [200] * 20 + [409] * 20
    decisions = wait_for(
        lambda: len(broker.envelopes("APPROVAL")) >= 20 and broker.envelopes("APPROVAL")
    )
    assert sorted(str(e.data.request_id) for e in decisions) == sorted(ids)


def test_a_rejection_letter_is_numbered_and_published(
    approval: ServiceProcess, fresh_nats: NatsServer
) -> None:
    broker = Broker(fresh_nats.url)
    [request_id] = pending(approval, broker, 1)
    approval.post(
        f"/approvals/{request_id}/reject",
        json={"decided_by": "Kepala Balai", "reason": "Di luar wewenang."},
    )

    response = approval.post(
        f"/approvals/{request_id}/rejection-letter",
        json={"drafted_by": "Kasi Jasa Produksi", "body": "Dengan hormat, ..."},
    )

    assert response.status_code == 200
    number = response.json()["rejection_letter"]["letter_number"]
    assert number.startswith("B-1/PK.210/F2.J/")
    letters = wait_for(
        lambda: [
            e
            for e in broker.envelopes("APPROVAL")
            if isinstance(e.data, RejectionLetterIssued)
        ]
    )
    assert letters[0].data.letter_number == number


def test_bad_commands_are_problems_not_errors(approval: ServiceProcess) -> None:
    unknown = approval.post(
        f"/approvals/{uuid4()}/approve", json={"decided_by": "K", "disposition": "D"}
    )
    missing_field = approval.post(
        f"/approvals/{uuid4()}/reject", json={"decided_by": "K"}
    )
    # Not an id: read as a reference, which no request here has.
    not_a_uuid = approval.post(
        "/approvals/abc/approve", json={"decided_by": "K", "disposition": "D"}
    )

    assert unknown.status_code == 404
    assert missing_field.status_code == 422
    assert "body.reason" in [e["field"] for e in missing_field.json()["errors"]]
    assert not_a_uuid.status_code == 404
    assert not_a_uuid.json()["field"] == "request_id"
    assert all(
        r.headers["content-type"] == "application/problem+json"
        for r in (unknown, missing_field, not_a_uuid)
    )
