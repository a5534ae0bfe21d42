"""The ids seeded by local/scenarios/demo.json, for the stack, the demo, the tests and the benches."""

from pathlib import Path

SCENARIO = Path(__file__).resolve().parent / "scenarios" / "demo.json"
TENANT = "aaaaaaaa-0000-4000-8000-000000000001"
FOREIGN_TENANT = "bbbbbbbb-0000-4000-8000-000000000002"
SUB_DEV = "11111111-1111-4111-8111-111111111111"
SUB_PROD = "22222222-2222-4222-8222-222222222222"
SUB_PARTNER = "33333333-3333-4333-8333-333333333333"
SUB_SANDBOX = "44444444-4444-4444-8444-444444444444"


def rg_id(sub: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{name}"


def ws_id(name: str, sub: str = SUB_DEV, rg: str = "rg-ml-dev") -> str:
    return f"{rg_id(sub, rg)}/providers/Microsoft.MachineLearningServices/workspaces/{name}"
