"""One policy layer: every file under config/ loaded once into typed, checked objects.

    policy = load_policy()            # config/ of the project (or load_policy(Path("my/config")))
    policy.lines.for_year(2020)       # {name: LineValue}: the one line resolver
    policy.groups["poor"]             # ('poor', 'returned'): the one definition of who is poor
    policy.calendar.next_deadline(d)  # the 清零 deadline rule, any year
    policy.labels.label("risk_level", "high")

Every stage receives a Policy explicitly (tests build their own from a folder of TOML files), so
entering the official line figures breaks no test. A bad file, a misspelt key or a reference to
something that does not exist (a band naming an unknown line, a watch group naming an unknown
status, two canonical columns claiming one header spelling) raises PolicyError: one line naming
the file, the key and what was expected; the CLI prints it and exits 2.
"""

from __future__ import annotations

import csv
import functools
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from pipelines.policy import schema
from pipelines.policy.resolve import Calendar, Labels, Lines, LineValue

__all__ = ["Policy", "PolicyError", "load_policy", "Lines", "LineValue", "Calendar", "Labels", "default_config_dir"]

FILES = {  # file stem -> model
    "policy": schema.PolicyFile,
    "thresholds": schema.ThresholdsFile,
    "validate": schema.ValidateFile,
    "measures": schema.MeasuresFile,
    "risk": schema.RiskFile,
    "report": schema.ReportFile,
    "notebooks": schema.NotebooksFile,
    "synth": schema.SynthFile,
    "audit": schema.AuditFile,
    "tasks": schema.TasksFile,
    "departments": schema.DepartmentsFile,  # issue 16 part 1: department cross-checks
    "warehouse": schema.WarehouseFile,  # lock, snapshots, [engine] DuckDB limits (issue 12)
}


class PolicyError(ValueError):
    """A configuration file is malformed or refers to something that does not exist."""


def default_config_dir() -> Path:
    from pipelines.config import CONFIG_DIR

    return CONFIG_DIR


@dataclass(frozen=True)
class Village:
    """One row of config/regions/villages.csv (统计用区划代码 of a 村委会 / 居委会)."""

    code: str
    name: str
    township_code: str
    urban_rural_code: str | None
    synthetic: bool  # generated for the sample city, not an official code


@dataclass(frozen=True)
class Region:
    level: str  # county | township
    code: str
    name: str
    parent: str  # county code of a township, city code of a county


@dataclass(frozen=True, eq=False)
class Policy:
    """Every configuration file, typed and cross-checked. Immutable; pass it to the stages."""

    config_dir: Path
    shared: schema.PolicyFile
    thresholds: schema.ThresholdsFile
    validate: schema.ValidateFile
    measures: schema.MeasuresFile
    risk: schema.RiskFile
    report: schema.ReportFile
    notebooks: schema.NotebooksFile
    synth: schema.SynthFile
    audit: schema.AuditFile
    tasks: schema.TasksFile
    departments: schema.DepartmentsFile
    warehouse: schema.WarehouseFile
    line_specs: dict[str, schema.LineSpec]
    aliases: dict[str, dict[str, schema.ColumnSpec]]  # source -> canonical column -> spec
    code_labels: dict[str, dict[str, tuple[str, ...]]]  # list -> code -> labels (first = standard)
    regions: tuple[Region, ...]
    surveys: dict[str, schema.SurveyDesignFile] = field(default_factory=dict)  # config/surveys/<name>.toml
    villages: tuple[Village, ...] = ()  # config/regions/villages.csv: names resolve against these
    lines: Lines = field(init=False)
    calendar: Calendar = field(init=False)
    labels: Labels = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", Lines(self.line_specs, self.shared.lines.model_dump()))
        object.__setattr__(self, "calendar", Calendar.from_month_days(self.shared.calendar.deadlines))
        object.__setattr__(self, "labels", _labels(self))

    # ---- shared definitions ----------------------------------------------------------------------
    @property
    def groups(self) -> dict[str, tuple[str, ...]]:
        """Status groups (config/policy.toml [status_groups]): group -> 脱贫状态 codes."""
        return {g: tuple(codes) for g, codes in self.shared.status_groups.items()}

    @property
    def city(self) -> schema.City:
        return self.shared.city

    def group_rows(self) -> list[tuple[str, str]]:
        """(group, poverty_status code) for a `status_groups` parameter table."""
        return [(g, c) for g, codes in self.groups.items() for c in codes]

    def codes(self, list_name: str) -> list[str]:
        return list(self.code_labels[list_name])

    def raw(self, name: str) -> dict:
        """A config file as plain data (for generated artefacts such as the GX suites)."""
        return _read_toml(self.config_dir, name)


# ---- loading ------------------------------------------------------------------------------------------

def _read_toml(config_dir: Path, name: str) -> dict:
    path = config_dir / f"{name}.toml"
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise PolicyError(f"config/{name}.toml: file not found under {config_dir}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"config/{name}.toml: not valid TOML ({exc})") from None


def _where(name: str, loc: tuple) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else f"[{part}]")
    return f"config/{name}.toml {key}".rstrip()


def _validation_message(name: str, exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        got = err.get("input")
        shown = "" if err["type"] == "missing" or isinstance(got, dict) else f" (got {got!r})"
        msg = err["msg"].replace("Extra inputs are not permitted", "unknown key")
        problems.append(f"{_where(name, tuple(err['loc']))}: {msg}{shown}")
    return problems[0] + (f"; and {len(problems) - 1} more: " + " | ".join(problems[1:]) if len(problems) > 1 else "")


def _parse(name: str, data: dict, model):
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_python(data)
        return model.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_validation_message(name, exc)) from None


def _read_regions(config_dir: Path) -> tuple[Region, ...]:
    rows = []
    for level, fname, parent in (("county", "counties.csv", "city_code"), ("township", "townships.csv", "county_code")):
        path = config_dir / "regions" / fname
        if not path.exists():
            raise PolicyError(f"config/regions/{fname}: file not found under {config_dir}")
        with open(path, encoding="utf-8", newline="") as fh:
            for i, r in enumerate(csv.DictReader(fh), start=2):
                try:
                    rows.append(Region(level, r["code"].strip(), r["name"].strip(), r[parent].strip()))
                except (KeyError, AttributeError):
                    raise PolicyError(f"config/regions/{fname} row {i}: expected columns code, name, {parent}") from None
    return tuple(rows)


def _read_surveys(config_dir: Path, overrides: dict | None) -> dict[str, schema.SurveyDesignFile]:
    """config/surveys/<name>.toml: one survey design each (overrides: {"surveys": {name: {...}}})."""
    folder = config_dir / "surveys"
    names = sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []
    extra = (overrides or {}).get("surveys", {})
    designs = {}
    for name in sorted(set(names) | set(extra)):
        data = _read_toml(config_dir, f"surveys/{name}") if name in names else {}
        data = _merge(data, extra[name]) if name in extra else data
        designs[name] = _parse(f"surveys/{name}", data, schema.SurveyDesignFile)
    return designs


VILLAGE_COLUMNS = ("code", "name", "township_code", "urban_rural_code", "synthetic")


def _read_villages(config_dir: Path) -> tuple[Village, ...]:
    """config/regions/villages.csv (optional: without it, exports naming villages cannot be placed)."""
    path = config_dir / "regions" / "villages.csv"
    if not path.exists():
        return ()
    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in VILLAGE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise PolicyError(f"config/regions/villages.csv: column(s) {', '.join(missing)} missing; expected "
                              f"{', '.join(VILLAGE_COLUMNS)}")
        for i, r in enumerate(reader, start=2):
            synthetic = (r["synthetic"] or "").strip().lower()
            if synthetic not in ("true", "false"):
                raise PolicyError(f"config/regions/villages.csv row {i}, column synthetic: found {r['synthetic']!r}; "
                                  "expected true or false")
            rows.append(Village(r["code"].strip(), r["name"].strip(), r["township_code"].strip(),
                                (r["urban_rural_code"] or "").strip() or None, synthetic == "true"))
    return tuple(rows)


def _signature(config_dir: Path) -> tuple:
    files = sorted(p for p in config_dir.rglob("*") if p.suffix in (".toml", ".csv"))
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


def load_policy(config_dir: Path | str | None = None, *, overrides: dict[str, dict] | None = None) -> Policy:
    """Load and check every config file (cached until a file under config_dir changes).

    `overrides` {file stem: {section: value}} are merged over the files before checking (tables
    merge key by key, anything else is replaced): how tests inject the values they rely on, e.g.
    load_policy(overrides={"lines": {"provincial_guideline": {...}}})."""
    config_dir = Path(config_dir) if config_dir is not None else (env_config_dir() or default_config_dir())
    if not config_dir.is_dir():
        raise PolicyError(f"{config_dir}: configuration folder not found")
    if overrides:
        return _build(config_dir.resolve(), overrides)
    return _load(config_dir.resolve(), _signature(config_dir))


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@functools.lru_cache(maxsize=8)
def _load(config_dir: Path, _signature: tuple) -> Policy:
    return _build(config_dir, None)


def _build(config_dir: Path, overrides: dict[str, dict] | None) -> Policy:
    from pipelines.policy import checks

    def read(name: str) -> dict:
        data = _read_toml(config_dir, name)
        return _merge(data, overrides[name]) if overrides and name in overrides else data

    parsed = {name: _parse(name, read(name), model) for name, model in FILES.items()}
    line_specs = _parse("lines", read("lines"), TypeAdapter(dict[str, schema.LineSpec]))
    aliases = _parse("header_aliases", read("header_aliases"), TypeAdapter(dict[str, dict[str, schema.ColumnSpec]]))
    codes_raw = read("code_labels")
    code_labels = {lst: {code: _labels_of(lst, code, labels) for code, labels in codes.items()}
                   for lst, codes in codes_raw.items()}
    policy = Policy(config_dir=config_dir, line_specs=line_specs, aliases=aliases, code_labels=code_labels,
                    regions=_read_regions(config_dir), surveys=_read_surveys(config_dir, overrides),
                    villages=_read_villages(config_dir),
                    **{("shared" if k == "policy" else k): v for k, v in parsed.items()})
    checks.check(policy)
    return policy


def _labels_of(list_name: str, code: str, labels) -> tuple[str, ...]:
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x.strip() for x in labels):
        raise PolicyError(f"config/code_labels.toml [{list_name}].{code}: expected a non-empty list of labels")
    return tuple(labels)


def _labels(policy: Policy) -> Labels:
    """The one label set: each domain from the one file that defines its codes."""
    domains: dict[str, dict[str, str]] = {}
    sources: dict[str, str] = {}

    def add(domain: str, mapping: dict[str, str], source: str) -> None:
        if domain in domains:
            raise PolicyError(f"{source}: label domain '{domain}' is already defined in {sources[domain]}; "
                              "define each code's label in one place")
        domains[domain], sources[domain] = dict(mapping), source

    for lst, codes in policy.code_labels.items():
        add(lst, {c: labels[0] for c, labels in codes.items()}, f"config/code_labels.toml [{lst}]")
    risk = policy.risk
    add("signal", {s.code: s.label.format(**risk.signals.model_dump()) for s in risk.signal}, "config/risk.toml [[signal]]")
    add("income_band", {b.code: b.label for b in risk.bands}, "config/risk.toml [[bands]]")
    add("risk_level", {**{lv.code: lv.label for lv in risk.levels}, "none": risk.no_risk_label},
        "config/risk.toml [[levels]]")
    add("proposed_category", dict(risk.category_labels), "config/risk.toml [category_labels]")
    add("elimination_status", dict(risk.elimination_labels), "config/risk.toml [elimination_labels]")
    add("assistance_gap", dict(risk.gap_labels), "config/risk.toml [gap_labels]")
    add("watch_group", {g.code: g.label for g in risk.watch_groups}, "config/risk.toml [[watch_groups]]")
    add("requirement", {r.code: r.label for r in risk.assistance.requirements},
        "config/risk.toml [[assistance.requirements]]")
    add("criterion", dict(policy.validate.criteria), "config/validate.toml [criteria]")
    add("line", {name: spec.label for name, spec in policy.line_specs.items()}, "config/lines.toml")
    add("task_status", dict(policy.tasks.status_labels), "config/tasks.toml [status_labels]")
    add("task_category", {c: labels[0] for c, labels in policy.tasks.categories.items()},
        "config/tasks.toml [categories]")
    add("task_kind", dict(policy.tasks.kind_labels), "config/tasks.toml [kind_labels]")
    add("department", {d: spec.label for d, spec in policy.departments.departments.items()},
        "config/departments.toml [departments]")
    add("crosscheck_rule", {r.code: r.label for r in policy.departments.rule}, "config/departments.toml [[rule]]")
    for domain, mapping in policy.report.labels.items():
        add(domain, mapping, f"config/report.toml [labels.{domain}]")
    return Labels(domains, sources)


def env_config_dir() -> Path | None:
    """$POVMON_CONFIG, when set: a deployment's own config folder."""
    value = os.environ.get("POVMON_CONFIG")
    return Path(value) if value else None
