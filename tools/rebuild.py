"""Rebuilds every service's read models from its events, and checks them.

``python -m tools.rebuild`` asks each running service (default: the ports of
``make run``; ``<SERVICE>_URL`` overrides) to replay its whole event log into
fresh read models: the request list and timelines at intake, the head's inbox,
the schedules, the visits, the notifications. Each answers whether the rebuilt
model equals the live one; the command exits non-zero if any differs.
"""

from __future__ import annotations

import os
import sys

import httpx

SERVICES = {
    "intake": 8001,
    "approval": 8002,
    "scheduling": 8003,
    "fieldwork": 8004,
    "notifier": 8005,
}


def main() -> None:
    differing = []
    with httpx.Client(timeout=120) as client:
        for name, port in SERVICES.items():
            url = os.environ.get(f"{name.upper()}_URL", f"http://127.0.0.1:{port}")
            answer = client.post(f"{url}/admin/rebuild-views")
            answer.raise_for_status()
            result = answer.json()
            verdict = "equal to the live one" if result["equal_to_live"] else "DIFFERED"
            print(f"{name:<11} {result['rows']:>6} rows rebuilt, {verdict}")
            if not result["equal_to_live"]:
                differing.append(name)
    if differing:
        sys.exit(f"rebuilt views differed in: {', '.join(differing)}")


if __name__ == "__main__":
    main()
