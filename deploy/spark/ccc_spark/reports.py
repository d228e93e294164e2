"""Suite results for people and machines: the JSON report (docs/dq-report.schema.json,
an array of the suites that ran), JUnit XML and Markdown in ccc's shape, and the
lines printed at the end of a run."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

FORMATS = ("json", "junit", "markdown")


def _where(location: dict[str, Any] | None) -> str:
    if not location:
        return ""
    if "key" in location:
        return f" @ {location['key']}"
    if "file" in location:
        line = f":{location['line']}" if location.get("line") is not None else ""
        return f" @ {location['file']}{line} (record {location['record']})"
    return f" @ row {location.get('row')}"


def examples(result: dict[str, Any], limit: int = 3) -> str:
    shown = []
    for example in result["partial_unexpected"][:limit]:
        value = example.get("value")
        text = "null" if value is None else json.dumps(value, ensure_ascii=False)
        shown.append(text + _where(example.get("location")))
    return "; ".join(shown)


def _percent(result: dict[str, Any]) -> str:
    p = result.get("unexpected_percent")
    return "" if p is None else f"{p:.2f}%"


def summary_line(suite: dict[str, Any]) -> str:
    st = suite["statistics"]
    verdict = "passed" if suite["success"] else "FAILED"
    return (
        f"suite {suite['suite']}: {st['evaluated_expectations']} expectations, "
        f"{st['successful_expectations']} passed, {st['unsuccessful_expectations']} failed "
        f"({st['failed_errors']} errors, {st['failed_warnings']} warnings) — {verdict}"
    )


def to_json(suites: list[dict[str, Any]]) -> str:
    """One suite as its result object, several as an array of them (as ccc writes)."""
    value: Any = suites[0] if len(suites) == 1 else suites
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def to_markdown(suites: list[dict[str, Any]]) -> str:
    out = []
    for suite in suites:
        mark = "✅" if suite["success"] else "❌"
        out += [f"## {mark} Data quality: suite `{suite['suite']}`", "", summary_line(suite), ""]
        out += [
            "| result | table | column | rule | expectation | unexpected | % | examples |",
            "|---|---|---|---|---|---:|---:|---|",
        ]
        ordered = [r for r in suite["results"] if not r["success"]] + [r for r in suite["results"] if r["success"]]
        for r in ordered:
            result = "pass" if r["success"] else ("FAIL" if r["severity"] == "error" else "warn")
            cells = [
                result,
                r["table"],
                r.get("column") or "",
                r.get("rule") or "",
                f"`{r['expectation']}`",
                str(r["unexpected_count"]),
                _percent(r),
                examples(r).replace("|", "\\|"),
            ]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def to_junit(suites: list[dict[str, Any]]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>"]
    for suite in suites:
        results = suite["results"]
        failures = sum(1 for r in results if not r["success"] and r["severity"] == "error")
        skipped = sum(1 for r in results if "skipped" in r)
        out.append(
            f"  <testsuite name={quoteattr(suite['suite'])} tests=\"{len(results)}\" "
            f'failures="{failures}" errors="0" skipped="{skipped}">'
        )
        for r in results:
            name = f"{r['id']}: {r.get('column') or r['table']} {r.get('rule') or r['expectation']}"
            head = f"    <testcase classname={quoteattr(r['table'])} name={quoteattr(name)}"
            detail = (
                f"{r['expectation']} on {r['table']}: {r['unexpected_count']} of {r['element_count']} "
                f"values unexpected, {r['missing_count']} missing. Examples: {examples(r)}"
            )
            if r["success"]:
                out.append(head + "/>")
            elif r["severity"] == "error":
                out.append(head + ">")
                out.append(
                    f"      <failure message={quoteattr(str(r['unexpected_count']) + ' unexpected values')} "
                    f"type={quoteattr(r['expectation'])}>{escape(detail)}</failure>"
                )
                out.append("    </testcase>")
            else:
                out.append(head + ">")
                out.append(f"      <system-out>{escape('warning: ' + detail)}</system-out>")
                out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


def render(fmt: str, suites: list[dict[str, Any]]) -> str:
    return {"json": to_json, "junit": to_junit, "markdown": to_markdown}[fmt](suites)


def human(suite: dict[str, Any]) -> list[str]:
    """A suite's verdict and its failed expectations, for stdout."""
    lines = [summary_line(suite)]
    for r in suite["results"]:
        if not r["success"]:
            level = "FAIL" if r["severity"] == "error" else "warn"
            lines.append(f"  {level} {r['id']}: {r['unexpected_count']} unexpected {examples(r, 2)}".rstrip())
    return lines
