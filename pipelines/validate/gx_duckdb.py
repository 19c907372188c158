"""Great Expectations on DuckDB: import once, one small adapter, the ephemeral context.

The adapter. GX 1.24's SqlAlchemyExecutionEngine.execute_query runs a query inside
`with self.get_connection() as connection:` and returns the live cursor result *after* the block
has closed the connection. Most drivers still hand out the buffered rows; DuckDB (through
duckdb-engine) does not, so every metric reads zero rows and each expectation fails with
"IndexError: list index out of range" (GX issues #10738, #11579). `install_duckdb_adapter()`
wraps execute_query so that, for the duckdb dialect only, rows are read while the connection is
still open (SQLAlchemy `Result.freeze()`, then a fresh in-memory result with the same API:
fetchall / fetchmany / fetchone / scalar / keys). Every other dialect runs GX's code unchanged;
there is no fallback to pandas anywhere. tests/validate/test_gx_adapter.py shows the failure
without the adapter and the fix with it.

Import time. `import great_expectations` costs ~10-15 s, so it happens once per process, on the
first call of `gx()`; the rest of povmon never imports it at module level.

PySpark. GX imports every PySpark module it knows of when pyspark is installed (it is, for
`--engine spark`), among them Spark Connect, whose import calls `sys.exit(0)` in a process whose
main module has no file (a pytest-xdist worker, `python -c`) when grpc is missing, and warns about
pandas 3 otherwise. Validation runs GX on DuckDB only, so GX is imported with PySpark hidden
(`_spark_hidden()`): GX sees "not installed"; the Spark engine imports PySpark normally afterwards.

The context is ephemeral and built from gx/great_expectations.yml (progress bars off, analytics
off, one Data Docs site): suites come from expectations/*.json and are never written back.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import re
import sys
from pathlib import Path
from typing import Any

from pipelines.config import PROJECT_ROOT

GX_YML = PROJECT_ROOT / "gx" / "great_expectations.yml"
DIALECT = "duckdb"


# hidden from GX's import: all of PySpark when it is not loaded yet, else the Spark Connect modules
SPARK_MODULES = ("pyspark",)
SPARK_CONNECT_MODULES = ("pyspark.sql.connect", "pyspark.sql.connect.dataframe", "pyspark.sql.connect.session")
# imported by GX modules at import but used only inside expectations we do not run (kl divergence,
# ks tests, json schema): imported on first use instead (~1.7 of ~3 CPU s of the import)
GX_DEFERRED = ("altair", "jsonschema", "scipy.stats")


@contextlib.contextmanager
def _spark_hidden():
    """Within: `import pyspark` (or, when PySpark is already loaded, its Spark Connect modules)
    raises ImportError; afterwards sys.modules is as before."""
    names = SPARK_CONNECT_MODULES if "pyspark" in sys.modules else SPARK_MODULES
    hidden = [n for n in names if n not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not importable"
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


@functools.cache
def gx() -> Any:
    """The great_expectations module, imported once per process, with the DuckDB adapter on
    (modules only unused expectations need are imported when first used: pipelines/deferred.py)."""
    from pipelines.deferred import defer

    defer(GX_DEFERRED)
    with _spark_hidden():
        import great_expectations

    install_duckdb_adapter()
    install_template_cache()
    return great_expectations


def _memory_bytecode_cache():
    """A jinja2 bytecode cache held in memory (compiled template code by jinja2's bucket key)."""
    import jinja2

    class MemoryBytecodeCache(jinja2.BytecodeCache):
        def __init__(self):
            self.code: dict[str, bytes] = {}

        def load_bytecode(self, bucket):
            if (code := self.code.get(bucket.key)) is not None:
                bucket.bytecode_from_string(code)

        def dump_bytecode(self, bucket):
            self.code[bucket.key] = bucket.bytecode_to_string()

    return MemoryBytecodeCache()


def install_template_cache() -> None:
    """Data Docs: GX's DefaultJinjaView makes a new jinja2 Environment for every page it renders,
    so each page compiles its templates again (~200 compilations per validate run, most of Data
    Docs' time). Every view gets one in-memory bytecode cache: a template's compiled code (keyed by
    jinja2 on its name and source checksum) is reused; each view keeps its own Environment and
    filters, so the pages are the same. Idempotent."""
    from great_expectations.render.view.view import DefaultJinjaView

    current = DefaultJinjaView.__init__
    if getattr(current, "_povmon_template_cache", False):
        return
    cache = _memory_bytecode_cache()

    @functools.wraps(current)
    def __init__(self, *args, **kwargs):
        current(self, *args, **kwargs)
        self.env.bytecode_cache = cache

    __init__._povmon_template_cache = True
    DefaultJinjaView.__init__ = __init__


# GX's UnexpectedRowsExpectation asks two metrics of one query q: the rows (`q`, all fetched) and
# their count (this text around q). The adapter runs q once per engine and answers both from it.
_ROW_COUNT = re.compile(r"\ASELECT COUNT\(\*\) as (?P<name>unexpected_row_count) FROM \((?P<query>.*)\) "
                        r"AS substituted_batch_subquery\Z", re.S)


def install_duckdb_adapter() -> None:
    """Make SqlAlchemyExecutionEngine.execute_query read DuckDB rows before closing (idempotent).

    Shared scan: on DuckDB, a text query (what GX's query metrics send: the unexpected-rows query
    and `SELECT COUNT(*) ... FROM (<query>)`) is run once per execution engine; its rows are kept
    (they are read whole either way: see above) and the count is their number, so each
    unexpected-rows expectation scans its tables once instead of twice. The engine reads a
    read-only database (validate_with_gx), so a query's rows cannot change within it."""
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    current = SqlAlchemyExecutionEngine.execute_query
    if getattr(current, "_povmon_duckdb_adapter", False):
        return
    original = current

    def _frozen(engine, query):
        with engine.get_connection() as connection:
            result = engine._execute_query_with_recovery(connection, query)
            return result.freeze() if result.returns_rows else result

    @functools.wraps(original)
    def execute_query(self, query):
        if self.dialect_name != DIALECT:
            return original(self, query)
        import sqlalchemy as sa

        if not isinstance(query, sa.TextClause) or query._bindparams:
            result = _frozen(self, query)
            return result() if callable(result) else result  # rows read while the connection is open
        count = _ROW_COUNT.match(query.text)
        shared = self.__dict__.setdefault("_povmon_text_rows", {})
        text = count.group("query") if count else query.text
        if text not in shared:
            try:
                shared[text] = _frozen(self, sa.text(text))
            except Exception:
                if count is None:
                    raise
                return _frozen(self, query)()  # a failing query fails with GX's own statement and error
        rows = shared[text]
        if not callable(rows):  # not a row-returning statement (run once, as GX ran it): nothing to share
            del shared[text]
            return rows
        served = self.__dict__.setdefault("_povmon_text_served", {})
        served.setdefault(text, set()).add("count" if count else "rows")
        if len(served[text]) == 2:  # rows and count both answered: the rows are not held any longer
            del shared[text], served[text]
        if count:
            numbered = sa.text(f"SELECT CAST(:n AS BIGINT) AS {count.group('name')}").bindparams(n=len(rows.data))
            return _frozen(self, numbered)()
        return rows()

    execute_query._povmon_duckdb_adapter = True
    execute_query._povmon_original = original
    SqlAlchemyExecutionEngine.execute_query = execute_query


def uninstall_duckdb_adapter() -> None:
    """Restore GX's own execute_query (tests only: shows the bug the adapter fixes)."""
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    current = SqlAlchemyExecutionEngine.execute_query
    if getattr(current, "_povmon_duckdb_adapter", False):
        SqlAlchemyExecutionEngine.execute_query = current._povmon_original


@functools.cache
def _settings() -> dict:
    from ruamel.yaml import YAML

    with open(GX_YML, encoding="utf-8") as fh:
        return dict(YAML(typ="safe").load(fh))


def context(docs_dir: Path | None):
    """An ephemeral GX context configured by gx/great_expectations.yml; Data Docs go to docs_dir
    (no Data Docs site when docs_dir is None)."""
    ge = gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    settings = copy.deepcopy(_settings())
    sites = settings.pop("data_docs_sites", {}) or {}
    if docs_dir is None:
        sites = {}
    for site in sites.values():
        site["store_backend"]["base_directory"] = str(Path(docs_dir).resolve())
    progress = settings.pop("progress_bars", None) or {}
    cfg = DataContextConfig(
        config_version=settings.pop("config_version", 4.0),
        analytics_enabled=settings.pop("analytics_enabled", False),
        progress_bars=ProgressBarsConfig(**progress),
        data_docs_sites=sites,
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
    )
    return ge.get_context(mode="ephemeral", project_config=cfg)


def suite_from_json(data: dict):
    """An ExpectationSuite from its committed JSON dict. The ids in the file are not passed: GX
    treats an expectation with an id as owned by another suite; the in-memory context assigns its
    own (the file is never written back, so the committed ids stay as they are)."""
    ge = gx()
    exps = []
    for e in data["expectations"]:
        cls = _expectation_class(e["type"])
        exps.append(cls(**e["kwargs"], meta=e.get("meta"), severity=e.get("severity", "critical"),
                        description=e.get("description")))
    return ge.ExpectationSuite(name=data["name"], expectations=exps, meta=data.get("meta"))


@functools.cache
def _expectation_class(type_name: str):
    from great_expectations.expectations.registry import get_expectation_impl

    return get_expectation_impl(type_name)
