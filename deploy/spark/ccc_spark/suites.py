"""The YAML suites: loaded, checked against the JSON Schema ccc ships, and bound to the
tables the job knows, all before any data is read. A suite the job cannot run exactly
(an unknown table or column, an expectation type or parameter the Spark path does not
implement) is a usage error (exit 2), never a silent skip.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ccc_spark.errors import UsageError
from ccc_spark.values import BOOLEAN, INTEGER, STRING, TIMESTAMP

REPO = Path(__file__).resolve().parents[3]
BUILT_IN_DIR = REPO / "expectations"
SCHEMA_PATH = BUILT_IN_DIR / "schema" / "suite.schema.json"

# The expectation types the Spark path computes; any other is refused when loading.
SUPPORTED = {
    "expect_column_values_to_not_be_null",
    "expect_column_value_lengths_to_be_between",
    "expect_column_values_to_be_of_type",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_unique",
    "expect_column_values_to_be_in_other_table",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_pair_values_to_be_functionally_dependent",
    "expect_table_row_count_to_be_between",
    "expect_table_columns_to_match_set",
    "expect_metric_values_to_reconcile",
}

COMMON_KEYS = {"id", "expectation", "rule", "severity", "meta", "mostly", "result_format"}


@dataclass
class Expectation:
    """One expectation of a suite, with its table and parameters."""

    id: str
    table: str
    expectation: str
    params: dict[str, Any]
    rule: str | None = None
    severity: str = "error"
    mostly: Decimal | None = None
    mostly_text: str | None = None
    meta: Any = None
    result_format: str = "SUMMARY"

    @property
    def columns(self) -> list[str]:
        """Every column the expectation reads, as ccc lists them in results."""
        p = self.params
        if "column" in p:
            return [p["column"]]
        if "column_A" in p:
            return [p["column_A"], p["column_B"]]
        return []


@dataclass
class Suite:
    """A loaded suite and where it came from (`origin` as ccc reports it)."""

    name: str
    origin_source: str
    sha256: str
    expectations: list[Expectation] = field(default_factory=list)

    def origin(self) -> dict[str, str]:
        return {"source": self.origin_source, "sha256": self.sha256}


class _Loader(yaml.SafeLoader):
    """YAML with floats kept as the decimals written (`mostly: 0.95` is 95/100)."""


_Loader.add_constructor(
    "tag:yaml.org,2002:float",
    lambda loader, node: Decimal(loader.construct_scalar(node).replace("_", "")),
)


def _node_at(node: yaml.Node, path: list[Any]) -> yaml.Node:
    """The YAML node at a JSON path, for the line and column of an error."""
    for step in path:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if k.value == step]
            if not match:
                return node
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            return node
    return node


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def load(path: str | None, name: str) -> Suite:
    """The suite `name.yaml` from the folder `path`, or the built-in one when None."""
    if path is None:
        file = BUILT_IN_DIR / f"{name}.yaml"
        label = f"built-in {name}.yaml"
    else:
        file = Path(path) / f"{name}.yaml"
        label = os.path.join(path, f"{name}.yaml")
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot read suite {label}: {e.strerror or e}") from e
    return parse(text, label, str(file))


def parse(text: str, label: str, where: str) -> Suite:
    """A suite from its YAML text; errors name `where` with line and column."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise UsageError(f"{where}{at}: not valid YAML: {getattr(e, 'problem', e)}") from e
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(_jsonable(data)), key=lambda e: list(e.absolute_path))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        at = _node_at(node, list(error.absolute_path)) if node is not None else None
        loc = f":{at.start_mark.line + 1}:{at.start_mark.column + 1}" if at is not None else ""
        raise UsageError(f"{where}{loc}: {error.message}")
    suite = Suite(data["suite"], label, hashlib.sha256(text.encode("utf-8")).hexdigest())
    seen: set[str] = set()
    suite_format = data.get("result_format", "SUMMARY")
    for table, body in data["tables"].items():
        for raw in body["expectations"]:
            if raw["id"] in seen:
                raise UsageError(f"{where}: two expectations have the id `{raw['id']}`")
            seen.add(raw["id"])
            if raw["expectation"] not in SUPPORTED:
                raise UsageError(
                    f"{where}: expectation `{raw['id']}`: {raw['expectation']} is not "
                    "implemented on the Spark path (run it with `ccc validate`)"
                )
            mostly = raw.get("mostly")
            result_format = raw.get("result_format", suite_format)
            if result_format == "COMPLETE":
                raise UsageError(
                    f"{where}: expectation `{raw['id']}`: result_format COMPLETE is not "
                    "implemented on the Spark path (run it with `ccc validate`)"
                )
            suite.expectations.append(
                Expectation(
                    id=raw["id"],
                    table=table,
                    expectation=raw["expectation"],
                    params={k: v for k, v in raw.items() if k not in COMMON_KEYS},
                    rule=raw.get("rule"),
                    severity=raw.get("severity", "error"),
                    mostly=None if mostly is None else Decimal(mostly),
                    mostly_text=None if mostly is None else str(mostly),
                    meta=_jsonable(raw.get("meta")),
                    result_format=result_format,
                )
            )
    return suite


def bind(suite: Suite, where: str, tables: dict[str, dict[str, str]], metrics: set[str] | None) -> None:
    """Checks that every table, column and metric the suite names exists, and that
    each column's type is one the expectation can check on Spark (exit 2 otherwise)."""

    def fail(e: Expectation, message: str) -> UsageError:
        return UsageError(f"{where}: expectation `{e.id}`: {message}")

    for e in suite.expectations:
        if e.table not in tables:
            known = ", ".join(sorted(tables))
            raise fail(e, f"no table `{e.table}` (the tables are {known})")
        columns = tables[e.table]
        for column in e.columns:
            if column not in columns:
                raise fail(e, f"table `{e.table}` has no column `{column}`")
        p = e.params
        kind = columns.get(p.get("column", ""), "")
        if e.expectation == "expect_column_values_to_be_in_other_table":
            other = tables.get(p["other_table"])
            if other is None or p["other_column"] not in other:
                raise fail(e, f"no column `{p['other_column']}` in table `{p['other_table']}`")
            if other[p["other_column"]] != kind:
                raise fail(e, "the two columns have different types; compare them with `ccc validate`")
        if e.expectation == "expect_column_values_to_be_between" and kind not in (INTEGER, TIMESTAMP):
            raise fail(e, f"bounds on a {kind} column are not implemented on the Spark path")
        if e.expectation == "expect_column_values_to_be_of_type" and kind == STRING and p["type_"] == TIMESTAMP:
            raise fail(e, "parsing text as timestamps is not implemented on the Spark path")
        if e.expectation == "expect_column_pair_values_a_to_be_greater_than_b":
            a, b = columns[p["column_A"]], columns[p["column_B"]]
            if a != b or a == BOOLEAN:
                raise fail(e, f"cannot compare a {a} column with a {b} column")
        if e.expectation == "expect_column_values_to_be_in_set" and kind == INTEGER:
            for v in p["value_set"]:
                if not _integer_like(v):
                    raise fail(e, f"the set value {v!r} can never be in an integer column")
        if e.expectation == "expect_metric_values_to_reconcile" and metrics is not None:
            for name in p["left"] + p["right"]:
                if name not in metrics:
                    raise fail(e, f"no metric `{name}` (the metrics are {', '.join(sorted(metrics))})")
        if e.mostly is not None and not Decimal(0) <= e.mostly <= Decimal(1):
            raise fail(e, "mostly must be within 0 and 1")


def _integer_like(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, Decimal):
        return value == value.to_integral_value()
    if isinstance(value, str):
        try:
            return Decimal(value) == Decimal(value).to_integral_value()
        except ArithmeticError:
            return False
    return False
