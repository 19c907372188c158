"""Engines a stage's SQL runs on: DuckDB (one machine: a city, a province) or Spark (a cluster).

The stages are written once, against a DuckDB connection: they bind inputs (views over the
warehouse's Parquet), parameter tables (pipelines/params.py), run their models with the graph
runner (pipelines/graph.py) and write outputs through the warehouse transaction. With
`use("spark")` the transaction hands the stage a `SparkConnection` instead: the same statements,
parsed as DuckDB SQL and transpiled to Spark SQL by SQLGlot, run on a SparkSession. Nothing in a
stage knows which engine it runs on.

    with engines.use("spark"):
        measures.run(processed_dir, "2020Q2")

What the Spark connection does with each kind of statement:
  create view v as q          a temp view of the transpiled q (lazy)
  create table t as q         q computed, written as Parquet in the work folder, read back as t
  create table t (columns)    an empty DataFrame of that schema
  insert into t [by name] q   t re-registered as t ∪ q (by column name)
  alter table a rename to b   the DataFrame registered as b, a dropped
  drop table/view t           the temp view dropped
  describe q                  (column, type) rows
  set ...                     ignored (DuckDB settings)
  anything else (a query)     run; fetchone / fetchall / df as DuckDB's result
read_parquet([...]) in any statement becomes a DataFrame read by Spark from the same files
(hive partition column from the folder name when the files lack it; union by name). Outputs go
through `write_parquet`: Spark writes its part files into the transaction's work folder and DuckDB
sorts them into the one data.parquet of the warehouse layout (same bytes rules as every stage).

The SparkSession comes from config/spark.toml (master, app name, [conf]); under spark-submit the
session it configured is used, [conf] only filling keys it does not set.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

ENGINES = ("duckdb", "spark")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("povmon_engine", default="duckdb")
_counter = itertools.count()
_TRACE = bool(os.environ.get("POVMON_SPARK_TRACE"))  # one line per statement on stderr, with its time


class EngineError(RuntimeError):
    """The engine cannot start (no Java, no pyspark) or a statement has no Spark equivalent."""


# ---- choosing the engine -------------------------------------------------------------------------

def current() -> str:
    return _current.get()


@contextlib.contextmanager
def use(name: str) -> Iterator[str]:
    """Run the stages called inside on engine `name` (duckdb or spark)."""
    if name not in ENGINES:
        raise EngineError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
    token = _current.set(name)
    try:
        yield name
    finally:
        _current.reset(token)


def connect(work: Path) -> "SparkConnection":
    """A Spark connection (its own temp views on the process's SparkSession) for a transaction
    whose work folder is `work` (warehouse.Transaction.connect calls this under use("spark"))."""
    return SparkConnection(session().newSession(), Path(work))


def handover(duck, work: Path):
    """The connection a stage's models run on after its edge ran on DuckDB `duck` (ingest: the
    Python readers and the loader's SQL spool raw rows to Parquet there). DuckDB: `duck` itself.
    Spark: a Spark connection holding every table and view of `duck` (each written once as Parquet
    in `work`, the transaction's work folder, and read by Spark: parameter tables, the raw tables
    and the views over the spool); `duck` is closed."""
    if current() == "duckdb":
        return duck
    from pipelines import warehouse

    spark = connect(work)
    folder = Path(work) / "spark_inputs"
    folder.mkdir(parents=True, exist_ok=True)
    names = [r[0] for r in duck.execute(
        "select table_name from duckdb_tables() union select view_name from duckdb_views() where not internal "
        "order by 1").fetchall()]
    for name in names:
        path = folder / f"{name}.parquet"
        duck.execute(f"copy (select * from {name}) to {warehouse.sql_literal(path)} (format parquet)")
        spark._register(name, spark.spark.read.parquet(str(path)), persist=False)
    duck.close()
    return spark


# ---- the SparkSession ----------------------------------------------------------------------------

def spark_settings(config_dir: Path | None = None) -> tuple[str, str, dict[str, str]]:
    """(master, app name, {conf key: value}) of config/spark.toml; a wrong key is refused."""
    from pipelines.policy import PolicyError, load_policy

    policy = load_policy(config_dir)
    data = policy.raw("spark")
    unknown = sorted(set(data) - {"session", "conf"}) + sorted(
        f"session.{k}" for k in set(data.get("session", {})) - {"master", "app_name"})
    if unknown:
        raise PolicyError(f"config/spark.toml {unknown[0]}: unknown key (expected [session] master, app_name "
                          "and [conf] Spark settings)")
    session_cfg = data.get("session", {})
    conf = {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in data.get("conf", {}).items()}
    return str(session_cfg.get("master", "local[2]")), str(session_cfg.get("app_name", "povmon")), conf


def java_missing() -> str | None:
    """Why Spark cannot start on this machine (no Java runtime), or None."""
    java_home = os.environ.get("JAVA_HOME")
    if (java_home and (Path(java_home) / "bin" / "java").exists()) or shutil.which("java"):
        return None
    return ("no Java runtime (java not on PATH, JAVA_HOME unset): --engine spark needs Java 17 or later; "
            "`make system-deps` installs Debian's default-jre-headless")


def session():
    """The process's SparkSession (created once from config/spark.toml, or spark-submit's)."""
    why = java_missing()
    if why:
        raise EngineError(why)
    try:
        from pyspark import SparkConf
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EngineError("--engine spark needs pyspark: install the 'spark' extra (make env does)") from exc
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    master, app_name, conf = spark_settings()
    if os.environ.get("PYSPARK_GATEWAY_PORT"):  # started by spark-submit: its JVM holds what it was given
        from pyspark import SparkContext

        SparkContext._ensure_initialized()
        given = SparkConf()  # spark-submit's --master / --conf and spark-defaults.conf win over the file
    else:
        given = SparkConf(loadDefaults=False)
    builder = SparkSession.builder
    if not given.contains("spark.master"):
        builder = builder.master(master)
    if not given.contains("spark.app.name"):
        builder = builder.appName(app_name)
    for key, value in conf.items():
        if not given.contains(key):
            builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# ---- DuckDB SQL -> Spark -----------------------------------------------------------------------------

_SPARK_TYPES = {"varchar": "string", "text": "string", "integer": "int", "int": "int", "bigint": "bigint",
                "double": "double", "boolean": "boolean", "date": "date", "timestamp": "timestamp"}


def spark_type(duckdb_type: str) -> str:
    try:
        return _SPARK_TYPES[duckdb_type.strip().lower()]
    except KeyError:
        raise EngineError(f"no Spark type for the parameter type {duckdb_type!r}") from None


def _literal(node) -> Any:
    """The Python value of a SQLGlot literal / array / boolean (read_parquet's arguments)."""
    from sqlglot import exp

    if isinstance(node, exp.Array):
        return [_literal(e) for e in node.expressions]
    if isinstance(node, exp.Boolean):
        return node.this
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else float(node.this)
    if isinstance(node, exp.Column):  # true / false parsed as names in some positions
        return {"true": True, "false": False}.get(node.name.lower(), node.name)
    return node.sql("duckdb")


class SparkResult:
    """A query's rows with the DuckDB result methods the stages call."""

    def __init__(self, df=None, rows: list[tuple] | None = None):
        self._df, self._rows = df, rows

    def _all(self) -> list[tuple]:
        if self._rows is None:
            self._rows = [tuple(r) for r in self._df.collect()] if self._df is not None else []
        return self._rows

    def fetchall(self) -> list[tuple]:
        return list(self._all())

    def fetchone(self) -> tuple | None:
        rows = self._all()
        return rows[0] if rows else None

    def df(self):
        if self._df is None:
            import pandas as pd

            return pd.DataFrame(self._all())
        return self._df.toArrow().to_pandas()

    fetchdf = df


class SparkRelation:
    """A DuckDB-relation look-alike: a query (DuckDB SQL text) evaluated on Spark when asked."""

    def __init__(self, con: "SparkConnection", sql: str):
        self.con, self.sql_text = con, sql

    @property
    def columns(self) -> list[str]:
        return list(self.con.dataframe(self.sql_text).columns)

    def project(self, expressions: str) -> "SparkRelation":
        return SparkRelation(self.con, f"select {expressions} from ({self.sql_text}) as _rel")

    def filter(self, condition: str) -> "SparkRelation":
        return SparkRelation(self.con, f"select * from ({self.sql_text}) as _rel where {condition}")

    def to_table(self, name: str) -> None:
        self.con.execute(f"create or replace temp table {name} as {self.sql_text}")

    def create_view(self, name: str, replace: bool = True) -> None:
        self.con.execute(f"create or replace temp view {name} as {self.sql_text}")

    def df(self):
        return self.con.execute(self.sql_text).df()

    def fetchall(self) -> list[tuple]:
        return self.con.execute(self.sql_text).fetchall()

    def fetchone(self) -> tuple | None:
        return self.con.execute(self.sql_text).fetchone()


class SparkConnection:
    """The part of DuckDB's connection API the stages use, on a SparkSession (its own temp views)."""

    engine = "spark"

    def __init__(self, spark, work: Path):
        self.spark, self.work = spark, Path(work)

    # -- the names on the connection ------------------------------------------------------------------
    def relations(self) -> set[str]:
        return {t.name for t in self.spark.catalog.listTables() if t.isTemporary}

    def _register(self, name: str, df, *, persist: bool) -> None:
        """Temp view `name` over `df`. persist: computed now, written as Parquet in the work folder
        and read back, so that later plans start from the files, not from its whole lineage (the
        models of a stage build on each other; Spark would re-analyse every step each time)."""
        if persist:
            folder = self.work / "spark_tables" / f"{name}-{next(_counter)}"
            df.write.mode("overwrite").parquet(str(folder))
            df = self.spark.read.schema(df.schema).parquet(str(folder))
        df.createOrReplaceTempView(name)

    def _drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    # -- statements ---------------------------------------------------------------------------------
    def _read_parquet(self, node) -> str:
        """Register the files of a DuckDB read_parquet(...) call as a temp view; its name."""
        args = list(node.expressions) if node.expressions else [node.this]
        first = _literal(args[0])
        files = [str(f) for f in (first if isinstance(first, list) else [first])]
        options = {}
        for a in args[1:]:
            options[a.this.name.lower() if hasattr(a.this, "name") else str(a.this)] = _literal(a.expression)
        hive = bool(options.get("hive_partitioning", False))
        reader = self.spark.read.option("mergeSchema", "true")
        if hive:  # <table>/<key>=<value>/data.parquet: the table folder is the base of partition discovery
            bases = {str(Path(f).parent.parent) for f in files}
            if len(bases) != 1:
                raise EngineError(f"read_parquet over files of more than one table folder: {sorted(bases)}")
            reader = reader.option("basePath", bases.pop())
        df = reader.parquet(*files)
        name = f"_povmon_parquet_{next(_counter)}"
        df.createOrReplaceTempView(name)
        return name

    def _spark_sql(self, tree) -> str:
        from sqlglot import exp

        def swap(node):
            if isinstance(node, exp.Table) and isinstance(node.this, (exp.ReadParquet, exp.Anonymous)) \
                    and (isinstance(node.this, exp.ReadParquet) or node.this.name.lower() == "read_parquet"):
                table = exp.to_table(self._read_parquet(node.this))
                if node.alias:
                    table.set("alias", exp.TableAlias(this=exp.to_identifier(node.alias)))
                return table
            if isinstance(node, exp.Round) and isinstance(node.args.get("decimals"), exp.Literal) \
                    and not node.args["decimals"].is_string and 0 < int(node.args["decimals"].this) <= 10:
                return _duckdb_round(node.this, int(node.args["decimals"].this))
            if isinstance(node, exp.Join) and isinstance(node.this, exp.Unnest) and len(node.this.expressions) == 1:
                # `cross join unnest(list) as u(cell)`: SQLGlot writes a LATERAL VIEW, which Spark applies
                # after every join of the FROM clause (a later join cannot read u.cell); Spark 3.4+ reads a
                # lateral generator in place: CROSS JOIN LATERAL EXPLODE(list) AS u(cell)
                if node.side or (node.kind or "CROSS").upper() not in ("CROSS", "INNER"):
                    # an outer join keeps a row whose list is empty: EXPLODE would drop it (EXPLODE_OUTER
                    # is not checked against DuckDB here), so refused rather than rewritten
                    raise EngineError(f"{node.sql('duckdb')}: only a cross join of unnest() runs on Spark "
                                      "(pipelines/engines.py)")
                unnest = node.this
                node.set("this", exp.Lateral(this=exp.Explode(this=unnest.expressions[0].copy()), view=False,
                                             alias=unnest.args.get("alias").copy() if unnest.args.get("alias") else None))
            if isinstance(node, exp.In) and not node.expressions and not node.args.get("query") \
                    and not node.args.get("unnest") and not node.args.get("field"):
                return exp.false()  # `x in ()` (a source without personal columns): DuckDB false, Spark a syntax error
            if isinstance(node, exp.Anonymous) and node.name.lower() == "to_json" and len(node.expressions) == 1:
                return _scalar_to_json(node.expressions[0])
            if isinstance(node, exp.RegexpFullMatch) and isinstance(node.expression, exp.Literal) \
                    and not node.args.get("options"):
                # DuckDB: the whole text matches; Spark's rlike finds the pattern anywhere: anchor it
                return exp.RegexpLike(this=node.this.copy(),
                                      expression=exp.Literal.string(f"^(?:{node.expression.this})$"))
            if isinstance(node, exp.Union) and node.args.get("by_name") and not node.args.get("with_"):
                return self._union_by_name(node)
            if isinstance(node, exp.Select) and any(isinstance(e, exp.Star) and e.args.get("replace")
                                                    for e in node.expressions):
                return self._star_replace(node)
            if isinstance(node, exp.Where) and isinstance(node.this, exp.Paren):
                # Spark reads `from t where (c)` as t aliased `where` with column alias c: drop the parentheses
                node.set("this", node.this.this)
            return node

        tree = tree.transform(swap)
        return tree.sql(dialect="spark", unsupported_level=_raise_level())

    def _union_by_name(self, node):
        """`a union [all] by name b` (no Spark SQL spelling): the two sides' DataFrames united by
        column name (a column one side lacks is NULL there, as in DuckDB), read as a temp view."""
        from sqlglot import exp

        left = self.spark.sql(self._spark_sql(node.left.copy()))
        right = self.spark.sql(self._spark_sql(node.right.copy()))
        united = left.unionByName(right, allowMissingColumns=True)
        if node.args.get("distinct"):
            united = united.distinct()
        name = f"_povmon_union_{next(_counter)}"
        united.createOrReplaceTempView(name)
        return exp.select("*").from_(name)

    def _star_replace(self, node):
        """`select * replace (e as c) from …` (DuckDB only): the star spelled out as the FROM
        clause's columns, c given by e."""
        from sqlglot import exp

        probe = exp.select("*")
        probe.set("from_" if "from_" in node.args else "from", (node.args.get("from_") or node.args.get("from")).copy())
        for join in node.args.get("joins") or []:
            probe.append("joins", join.copy())
        columns = self.spark.sql(self._spark_sql(probe)).columns
        expressions = []
        for e in node.expressions:
            if isinstance(e, exp.Star) and e.args.get("replace"):
                given = {a.alias: a for a in e.args["replace"]}
                expressions += [given[c].copy() if c in given else exp.column(c) for c in columns]
            else:
                expressions.append(e)
        node.set("expressions", expressions)
        return node

    def dataframe(self, sql: str):
        """The DataFrame of one DuckDB query."""
        import sqlglot

        return self.spark.sql(self._spark_sql(sqlglot.parse_one(sql, read="duckdb")))

    def execute(self, sql: str, parameters: Sequence | None = None) -> SparkResult:
        if _TRACE:
            started = time.perf_counter()
            try:
                return self._execute(sql, parameters)
            finally:
                print(f"[spark {time.perf_counter() - started:6.2f}s] {' '.join(sql.split())[:120]}", file=sys.stderr)
        return self._execute(sql, parameters)

    def _execute(self, sql: str, parameters: Sequence | None = None) -> SparkResult:
        import sqlglot
        from sqlglot import exp

        if parameters:
            raise EngineError("the Spark engine takes no statement parameters: bind a parameter table")
        try:
            tree = sqlglot.parse_one(sql, read="duckdb")
        except sqlglot.errors.ParseError as exc:
            raise EngineError(f"not DuckDB SQL the Spark engine can read: {exc}") from exc
        if isinstance(tree, exp.Set) or (isinstance(tree, exp.Command) and tree.name.lower() in ("set", "pragma")):
            return SparkResult(rows=[])
        if isinstance(tree, exp.Create):
            return self._create(tree)
        if isinstance(tree, exp.Insert):
            name = tree.this.name
            new = self.spark.sql(self._spark_sql(tree.expression))
            old = self.spark.table(name)
            merged = old.unionByName(new) if tree.args.get("by_name") else old.union(new)
            self._register(name, merged, persist=True)
            return SparkResult(rows=[])
        if isinstance(tree, exp.Drop):
            for table in tree.args.get("tables") or [tree.this]:
                self._drop(table.name)
            return SparkResult(rows=[])
        if isinstance(tree, exp.Alter) and any(isinstance(a, exp.AlterRename) for a in tree.args["actions"]):
            old, new = tree.this.name, tree.args["actions"][0].this.name
            self._register(new, self.spark.table(old), persist=False)
            self.spark.catalog.dropTempView(old)
            return SparkResult(rows=[])
        if isinstance(tree, exp.Describe):
            df = (self.spark.table(tree.this.name) if isinstance(tree.this, exp.Table) and not tree.this.args.get("db")
                  else self.spark.sql(self._spark_sql(tree.this)))
            return SparkResult(rows=[(f.name, f.dataType.simpleString(), "YES") for f in df.schema.fields])
        return SparkResult(df=self.spark.sql(self._spark_sql(tree)))

    def _create(self, tree) -> SparkResult:
        from sqlglot import exp

        kind = (tree.args.get("kind") or "").upper()
        target = tree.this
        if isinstance(target, exp.Schema):  # create table t (a varchar, ...): an empty typed table
            name = target.this.name
            ddl = ", ".join(f"{c.name} {c.args['kind'].sql(dialect='spark')}" for c in target.expressions)
            self._register(name, self.spark.createDataFrame([], ddl), persist=False)
            return SparkResult(rows=[])
        name = target.name
        query = tree.expression
        if kind == "TABLE":
            query = self._materialize_shared_ctes(name, query)
        df = self.spark.sql(self._spark_sql(query))
        self._register(name, df, persist=kind == "TABLE")
        return SparkResult(rows=[])

    def _materialize_shared_ctes(self, model: str, query):
        """Compute once each CTE the query reads more than once (Spark inlines a CTE at every
        reference: a model whose final step reads `censored` five times would run its whole chain
        five times) as a table of its own; the query then reads that table under the CTE's name."""
        from sqlglot import exp

        with_ = query.args.get("with_") or query.args.get("with")
        if not isinstance(query, exp.Query) or with_ is None:
            return query
        small: set[str] = set()  # CTEs that read only parameter tables: cheap to repeat, not worth a job
        for cte in list(with_.expressions):
            alias = cte.alias
            sources = {t.name for t in cte.this.find_all(exp.Table)}
            if all(_is_param(n) or n in small for n in sources):
                small.add(alias)
                continue
            readers = [t for t in query.find_all(exp.Table)
                       if t.name == alias and not t.args.get("db") and cte.this not in [t] and
                       not any(a is cte for a in _ancestors(t))]
            if len(readers) < 2:
                continue
            kept = [c for c in with_.expressions if c is not cte]
            before = kept[:[c for c in with_.expressions].index(cte)]
            body = cte.this.copy()
            if before:
                body.set("with_" if "with_" in query.args else "with", exp.With(expressions=[c.copy() for c in before]))
            table = f"_cte_{model}_{alias}_{next(_counter)}"
            self._register(table, self.spark.sql(self._spark_sql(body)), persist=True)
            for t in readers:
                t.replace(exp.Table(this=exp.to_identifier(table),
                                    alias=exp.TableAlias(this=exp.to_identifier(t.alias or alias))))
            cte.pop()
            if not with_.expressions:
                query.set("with_" if "with_" in query.args else "with", None)
                break
        return query

    def register(self, name: str, data) -> None:
        """A view `name` over a relation of this connection, or a pandas / Arrow table."""
        if isinstance(data, SparkRelation):
            self._register(name, self.dataframe(data.sql_text), persist=False)
        else:
            self._register(name, self.spark.createDataFrame(data), persist=False)

    def sql(self, sql: str) -> SparkRelation:
        return SparkRelation(self, sql)

    def table(self, name: str) -> SparkRelation:
        return SparkRelation(self, f"select * from {name}")

    # -- parameter tables and outputs ---------------------------------------------------------------
    def bind_rows(self, name: str, columns: Mapping[str, str], rows: Iterable[tuple]) -> None:
        """Parameter table `name` (graph.bind_rows on this engine)."""
        ddl = ", ".join(f"{c} {spark_type(t)}" for c, t in columns.items())
        data = [tuple(r) for r in rows]
        self._register(name, self.spark.createDataFrame(data, ddl), persist=False)

    def write_parquet(self, query: str, path: Path, *, order_by: str) -> int:
        """Spark writes the rows of `query` as part files in the work folder; DuckDB sorts them into
        `path` (warehouse.write_parquet's rules: ORDER BY, one thread, atomic)."""
        from pipelines import warehouse

        parts = self.work / f"spark_parts_{next(_counter)}"  # no '=' in the name: not a hive partition
        select = f"select * from {query}" if warehouse._NAME.fullmatch(query) else query
        df = self.dataframe(select)
        df.write.mode("overwrite").parquet(str(parts))
        duck = warehouse.connect(spill=self.work / "spill")
        try:
            files = sorted(parts.glob("*.parquet"))
            if files:
                source = (f"read_parquet({warehouse.sql_literal(str(parts / '*.parquet'))}, union_by_name = true, "
                          "hive_partitioning = false)")
            else:  # no row: an empty file of the query's columns
                cols = ", ".join(f"cast(null as {_duck_type(f.dataType.simpleString())}) as {f.name}"
                                 for f in df.schema.fields)
                source = f"(select {cols} where false)"
            return warehouse.write_parquet(duck, f"select * from {source}", path, order_by=order_by)
        finally:
            duck.close()
            shutil.rmtree(parts, ignore_errors=True)

    def close(self) -> None:
        for name in list(self.relations()):
            self._drop(name)

    def __enter__(self) -> "SparkConnection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _duck_type(spark_type_name: str) -> str:
    return {"string": "varchar", "int": "integer", "bigint": "bigint", "double": "double", "boolean": "boolean",
            "date": "date", "timestamp": "timestamp"}.get(spark_type_name, "varchar")


# DuckDB rounds a double to n places by its exact binary value (1.67618249999999990862 -> 1.676182);
# Spark rounds its shortest decimal text (1.6761825 -> 1.676183). On Spark: p = x * 10^n with its
# rounding error err (Veltkamp split, exact for 10^n < 2^26); a tie in p is settled by err's sign.
# Checked against DuckDB's round on 2.6 M values, half-way cases included (tests/spark).
_ROUND = """(case when p - floor(p) = 0.5 and err < 0 then floor(p)
                  when p - floor(p) = 0.5 and err > 0 then ceil(p)
                  else round(p) end) / s"""


def _duckdb_round(x, n: int):
    """round(x, n) with DuckDB's result, in SQL Spark computes the same way."""
    import sqlglot
    from sqlglot import exp

    s = f"cast({10 ** n} as double)"
    p = f"(__x__ * {s})"
    hi = f"((cast(134217729 as double) * __x__) - ((cast(134217729 as double) * __x__) - __x__))"
    err = f"(({hi} * {s} - {p}) + (__x__ - {hi}) * {s})"
    text = _ROUND.replace("err", err).replace("p", p).replace(" s", f" {s}")
    tree = sqlglot.parse_one(text, read="duckdb")
    tree = tree.transform(lambda node: exp.Paren(this=x.copy()) if isinstance(node, exp.Column)
                          and node.name == "__x__" else node)
    return exp.Paren(this=tree)


def _scalar_to_json(x):
    """DuckDB's to_json of a scalar (text -> a JSON string '"…"'); Spark's to_json takes only a struct,
    array or map: the one-element array's JSON text without its brackets."""
    import sqlglot
    from sqlglot import exp

    text = "case when __x__ is null then null else substring(j, 2, length(j) - 2) end".replace(
        "j", "to_json(array(__x__))")
    tree = sqlglot.parse_one(text, read="spark")
    tree = tree.transform(lambda node: exp.Paren(this=x.copy()) if isinstance(node, exp.Column)
                          and node.name == "__x__" else node)
    return exp.Paren(this=tree)


def _is_param(name: str) -> bool:
    """A parameter table (pipelines/params.py, or a measure's own: fgt_lines, domain_params, ...)."""
    return name.startswith("param_") or name.endswith(("_params", "_lines", "_cutoffs", "_weights"))


def _ancestors(node):
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _raise_level():
    from sqlglot import ErrorLevel

    return ErrorLevel.RAISE
