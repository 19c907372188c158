"""One model graph and one runner for every stage's SQL (as dbt's `ref()` does).

A model is one `.sql` file: named CTEs ending in `select * from final` (or one select), one output
table named after the file. Its header declares what the runner needs to know:

    -- risk_income: income position of each household against the lines   (first line: what it is)
    -- key: household_key, line_name?                                      (unique; not null but `?` columns)
    -- materialized: view                                                  (default: table)
    -- duckdb: <why a DuckDB-only construct is kept>                       (checked by the Spark test)

Inputs are written `{{ ref('households') }}`: another model of the graph, or an input the stage
binds on the connection before running (a table of the warehouse, or a parameter table built
from the policy, e.g. `param_lines`). Values never enter SQL as text: thresholds, codes and
labels come in as parameter tables; jinja only loops over identifiers (column names, signal
codes) that the policy layer has checked are plain codes. Files whose name starts with `_` are
jinja macro libraries, not models.

    graph = Graph(Path("pipelines/risk/sql"), shared=[CRITERIA_SQL])
    graph.run(con, ["risk"], inputs={"households", "persons", "param_lines", ...}, context={...})
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import jinja2

_HEADER = re.compile(r"^--\s*(key|materialized|duckdb)\s*:\s*(.*?)\s*$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class GraphError(RuntimeError):
    """A model is malformed, refers to an input nobody provides, or failed to run."""


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    key: tuple[str, ...] = ()
    nullable_key: frozenset[str] = frozenset()  # key columns that may be null (e.g. a measure without a line)
    materialized: str = "table"
    duckdb_note: str | None = None
    refs: frozenset[str] = field(default_factory=frozenset)

    @property
    def description(self) -> str:
        first = self.path.read_text(encoding="utf-8").splitlines()[0]
        return first.lstrip("- ").partition(":")[2].strip() or first


def _parse_header(path: Path) -> dict:
    out: dict = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--") and not line.startswith("{"):
            break
        m = _HEADER.match(line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


class Graph:
    """The models under one or more folders; shared folders come after the stage's own."""

    def __init__(self, *sql_dirs: Path, shared: Iterable[Path] = ()):
        self.dirs = [Path(d) for d in (*sql_dirs, *shared)]
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(d) for d in self.dirs]),
                                      undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                                      autoescape=False)
        self.models: dict[str, Model] = {}
        for d in self.dirs:
            for path in sorted(d.glob("*.sql")):
                if path.name.startswith("_") or path.stem in self.models:
                    continue
                self.models[path.stem] = self._model(path)

    def _model(self, path: Path) -> Model:
        if not _NAME.match(path.stem):
            raise GraphError(f"{path}: a model's file name must be a plain lower-case name")
        head = _parse_header(path)
        parts = [k.strip() for k in head.get("key", "").split(",") if k.strip()]
        key = tuple(k.rstrip("?") for k in parts)
        nullable = frozenset(k.rstrip("?") for k in parts if k.endswith("?"))
        materialized = head.get("materialized", "table")
        if materialized not in ("table", "view"):
            raise GraphError(f"{path}: materialized must be table or view, got {materialized!r}")
        return Model(path.stem, path, key, nullable, materialized, head.get("duckdb"), self._refs(path))

    def _refs(self, path: Path) -> frozenset[str]:
        """Names passed to ref() anywhere in the file (literal strings only)."""
        text = path.read_text(encoding="utf-8")
        return frozenset(re.findall(r"ref\(\s*['\"]([a-z_][a-z0-9_]*)['\"]\s*\)", text))

    # ---- order -----------------------------------------------------------------------------------
    def upstream(self, targets: Iterable[str]) -> list[Model]:
        """The models `targets` need (themselves included), each after its inputs."""
        order: list[Model] = []
        state: dict[str, str] = {}

        def visit(name: str, chain: tuple[str, ...]) -> None:
            if state.get(name) == "done":
                return
            if state.get(name) == "visiting":
                raise GraphError(f"models refer to each other in a cycle: {' -> '.join((*chain, name))}")
            state[name] = "visiting"
            for ref in sorted(self.models[name].refs):
                if ref in self.models and ref != name:
                    visit(ref, (*chain, name))
            state[name] = "done"
            order.append(self.models[name])

        for t in targets:
            if t not in self.models:
                raise GraphError(f"no model {t!r} under {', '.join(map(str, self.dirs))}")
            visit(t, ())
        return order

    def sources(self, targets: Iterable[str]) -> set[str]:
        """Inputs the models of `targets` refer to that are not models: the stage must bind them."""
        needed = self.upstream(targets)
        return {r for m in needed for r in m.refs if r not in self.models}

    # ---- rendering and running ------------------------------------------------------------------------
    def render(self, name: str, context: Mapping | None = None, *, relation: Mapping[str, str] | None = None) -> str:
        """SQL text of one model; ref('x') becomes the relation name `x` (or relation[x])."""
        relation = dict(relation or {})

        def ref(target: str) -> str:
            return relation.get(target, target)

        try:
            template = self.env.get_template(self.models[name].path.name)
            return template.render(**dict(context or {}), ref=ref)
        except jinja2.TemplateError as exc:
            raise GraphError(f"{self.models[name].path}: {exc}") from exc

    def run(self, con: duckdb.DuckDBPyConnection, targets: Iterable[str], *, context: Mapping | None = None,
            inputs: Iterable[str] | None = None, temp: bool = True,
            ordered: Mapping[str, str] | None = None, built: Iterable[str] = ()) -> list[str]:
        """Create each needed model on `con` (tables or views, in order). Inputs that are not models
        must exist on `con` (checked first: one error naming every missing input). Returns the
        model names created. `ordered` {model: ORDER BY}: that table is created in this order (its
        insertion order, which a later COPY keeps: warehouse.write_parquet(presorted=True)).
        `built`: models an earlier run created on `con` (or replaced by a relation of the same name):
        used as they are, not created again."""
        targets = list(targets)
        done = set(built)
        order = [m for m in self.upstream(targets) if m.name not in done]
        present = relations(con)
        missing = sorted(s for s in self.sources(targets) if s not in present and s not in set(inputs or ()))
        if missing:
            raise GraphError(f"models {', '.join(targets)} need input(s) {', '.join(missing)}, which are "
                             "neither models nor bound on the connection")
        scope = "temp " if temp else ""
        for model in order:
            sql = self.render(model.name, context)
            if ordered and model.name in ordered:
                sql = f"select * from (\n{sql}\n) as ordered order by {ordered[model.name]}"
            try:
                con.execute(f"create or replace {scope}{model.materialized} {model.name} as\n{sql}")
            except Exception as exc:  # duckdb.Error, or the Spark engine's error (pyspark / sqlglot)
                if not _engine_error(exc):
                    raise
                raise GraphError(f"model {model.path.parent.name}/{model.name}.sql failed: {exc}") from exc
        return [m.name for m in order]


def _engine_error(exc: BaseException) -> bool:
    """An error of the SQL itself, from DuckDB or from the Spark engine (not a bug of ours)."""
    if isinstance(exc, duckdb.Error):
        return True
    module = type(exc).__module__
    return module.startswith(("pyspark", "sqlglot", "py4j")) or type(exc).__name__ == "EngineError"


def relations(con) -> set[str]:
    """Tables and views on `con` (a DuckDB connection, or another engine's: pipelines/engines.py)."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return con.relations()
    return {r[0] for r in con.execute(
        "select table_name from duckdb_tables() union select view_name from duckdb_views()").fetchall()}


# ---- parameter tables ------------------------------------------------------------------------------

_TYPES = {bool: "boolean", int: "bigint", float: "double", str: "varchar"}


def bind_rows(con: duckdb.DuckDBPyConnection, name: str, columns: Mapping[str, str], rows: Iterable[tuple]) -> None:
    """Temp table `name` with typed `columns` {column: SQL type} holding `rows` (prepared values)."""
    if not _NAME.match(name) or not all(_NAME.match(c) for c in columns):
        raise GraphError(f"parameter table {name}: names must be plain lower-case identifiers")
    if not isinstance(con, duckdb.DuckDBPyConnection):  # another engine (pipelines/engines.py)
        con.bind_rows(name, columns, rows)
        return
    con.execute(f"create or replace temp table {name} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
    rows = list(rows)
    if rows:
        con.executemany(f"insert into {name} values ({', '.join('?' * len(columns))})", rows)


def bind_params(con: duckdb.DuckDBPyConnection, name: str, values: Mapping[str, object]) -> None:
    """One-row temp table `name` of named scalar parameters (types from the Python values)."""
    columns = {}
    for k, v in values.items():
        if v is None or type(v) not in _TYPES:
            raise GraphError(f"parameter {name}.{k}: expected a bool, int, float or str, got {v!r}")
        columns[k] = _TYPES[type(v)]
    bind_rows(con, name, columns, [tuple(values.values())])


# ---- every stage's graph -------------------------------------------------------------------------------

def stage_graphs(policy) -> dict[str, tuple[Graph, dict]]:
    """{stage: (its graph, the jinja context its models are rendered with)} for every stage that
    runs SQL models: what the portability test transpiles and the key test checks."""
    from pipelines import criteria
    from pipelines.crosscheck import pipeline as crosscheck
    from pipelines.ingest import pipeline as ingest
    from pipelines.measures import nodes as measures, survey
    from pipelines.report import notebook, queries as report
    from pipelines.risk import pipeline as risk, rules as risk_rules
    from pipelines.validate import ledger, pipeline as validate
    from pipelines.tasks import pipeline as tasks

    indicators = [{"name": n, "column": f"ind_{n}"} for n in policy.measures.multidimensional.indicators]
    return {
        "ingest": (ingest.GRAPH, ingest.template_context(policy)),
        "crosscheck": (crosscheck.GRAPH, crosscheck.context(policy)),
        "criteria": (criteria.GRAPH, {}),
        "validate": (validate.GRAPH, {}),
        "validate_print": (ledger.PRINT_GRAPH, {}),
        "measures": (measures.GRAPH, {"indicators": indicators, **survey.template_context(policy)}),
        "risk": (risk.GRAPH, risk_rules.template_context(policy)),
        "risk_cards": (risk.CARDS_GRAPH, risk.card_context(policy)),
        "report": (report.GRAPH, {}),
        "notebooks": (notebook.GRAPH, {}),
        "tasks": (tasks.GRAPH, {}),
    }
