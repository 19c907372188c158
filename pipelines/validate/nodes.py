"""Small pure steps of the validate stage: reading GX results."""

from __future__ import annotations


def failing_count(result: dict) -> int | None:
    """How many rows an expectation result found wrong (None when not a row count)."""
    r = result.get("result") or {}
    if result.get("type") == "unexpected_rows_expectation":
        return r.get("observed_value")
    if "unexpected_count" in r:
        return r.get("unexpected_count")
    if result.get("type") == "expect_table_columns_to_match_set":
        missing = (r.get("details") or {}).get("mismatched", {}).get("missing") or []
        return len(missing)
    return None


def summarise_results(results: list[dict]) -> dict:
    """{'success', 'failed': [...], 'warnings': [...], 'checked'} from flat expectation results
    (dicts with suite, title, type, severity, success, result, exception)."""
    failed, warnings = [], []
    for r in results:
        if r["success"]:
            continue
        row = {"suite": r["suite"], "expectation": r["title"], "type": r["type"], "rows": failing_count(r)}
        if r.get("exception"):
            row["error"] = r["exception"]
        (warnings if r["severity"] != "critical" else failed).append(row)
    return {"success": not failed, "checked": len(results), "failed": failed, "warnings": warnings}


def gate_message(period: str, dq: dict) -> str:
    """Human message of a failed data-quality gate: which expectation failed on how many rows."""
    lines = [f"validate {period}: data-quality gate failed ({len(dq['failed'])} of {dq['checked']} expectations)"]
    for f in dq["failed"]:
        count = "?" if f["rows"] is None else f["rows"]
        extra = f" — error: {f['error']}" if f.get("error") else ""
        lines.append(f"  [{f['suite']}] {f['expectation']} ({f['type']}): {count} rows{extra}")
    return "\n".join(lines)
