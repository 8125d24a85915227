"""The promises made in documents: boundaries, the AsyncAPI file, every OpenAPI."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from services.approval.main import APPROVAL
from services.fieldwork.main import FIELDWORK
from services.intake.main import INTAKE
from services.notifier.main import NOTIFIER
from services.scheduling.main import SCHEDULING
from tools import asyncapi

REPOSITORY = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "approval", "scheduling", "fieldwork", "notifier")
APPS: dict[str, FastAPI] = {
    definition.name: definition.create_app()
    for definition in (INTAKE, APPROVAL, SCHEDULING, FIELDWORK, NOTIFIER)
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_imports_another_service(service: str) -> None:
    others = [f"services.{name}" for name in SERVICES if name != service]

    offending = {
        f"{path.name}: {module}"
        for path in (REPOSITORY / "services" / service).glob("*.py")
        for module in imported_modules(path)
        if any(module == other or module.startswith(other + ".") for other in others)
    }

    assert offending == set()


def test_the_shared_package_imports_no_service() -> None:
    offending = {
        f"{path.name}: {module}"
        for path in (REPOSITORY / "purnajual").glob("*.py")
        for module in imported_modules(path)
        if module.startswith("services")
    }

    assert offending == set()


def test_the_committed_asyncapi_document_is_what_the_contracts_say() -> None:
    committed = (REPOSITORY / "docs" / "asyncapi.yaml").read_text(encoding="utf-8")

    assert committed == asyncapi.render(), "run: python -m tools.asyncapi"


def test_every_published_event_has_a_consumer() -> None:
    operations = asyncapi.build()["operations"]
    received = {
        op["channel"]["$ref"] for op in operations.values() if op["action"] == "receive"
    }

    sent = {
        op["channel"]["$ref"] for op in operations.values() if op["action"] == "send"
    }

    assert sent == received


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_is_described_and_answers_errors_as_problems(
    service: str,
) -> None:
    for path, method, operation in operations(APPS[service]):
        where = f"{service} {method.upper()} {path}"
        assert operation.get("summary"), where
        assert operation.get("description"), where
        for status, answer in operation["responses"].items():
            if status[0] in "45" and path != "/ready":
                assert list(answer["content"]) == ["application/problem+json"], (
                    f"{where} {status}"
                )
        if "requestBody" in operation:
            assert "413" in operation["responses"], where
            assert "422" in operation["responses"], where


def test_the_operations_of_the_contract_exist() -> None:
    expected = {
        "intake": {("post", "/requests"), ("get", "/requests/{reference}")},
        "approval": {
            ("get", "/approvals"),
            ("post", "/approvals/{request_id}/approve"),
            ("post", "/approvals/{request_id}/reject"),
            ("post", "/approvals/{request_id}/rejection-letter"),
        },
        "scheduling": {("get", "/schedules"), ("post", "/schedules/{request_id}")},
        "fieldwork": {
            ("get", "/visits"),
            ("post", "/visits/{request_id}/berita-acara"),
            ("get", "/visits/{request_id}/berita-acara"),
        },
        "notifier": {
            ("get", "/notifications"),
            ("post", "/notifications/{notification_id}/delivered"),
        },
    }

    for service, wanted in expected.items():
        present = {(method, path) for path, method, _ in operations(APPS[service])}
        assert wanted | {("get", "/health"), ("get", "/ready")} <= present, service
