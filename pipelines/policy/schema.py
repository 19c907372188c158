"""The shape of every configuration file under config/, as pydantic models (one class per file).

Each model forbids keys it does not know, so a misspelt key is an error, not a silent default.
Cross-file references (a band naming a line, a watch group naming a status group, …) are
checked in pipelines/policy/checks.py once every file is loaded. Nothing here decides a rule.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]  # a code used in SQL and tables
CodeList = list[Code]
MonthDay = Annotated[str, StringConstraints(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
Number = int | float


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Loose(BaseModel):
    """A section whose keys are free (e.g. the generator's own tunables)."""

    model_config = ConfigDict(extra="allow", frozen=True)


# ---- config/policy.toml: what every stage shares ------------------------------------------------

class City(Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
    name: str


class LineRoles(Strict):
    """Which named line (a section of lines.toml) plays each role in the rules."""

    national: str
    guideline: str
    monitoring: str


class Calendar(Strict):
    deadlines: list[MonthDay] = Field(min_length=1)


class PolicyFile(Strict):
    city: City
    status_groups: dict[Code, CodeList]
    lines: LineRoles
    calendar: Calendar


# ---- config/lines.toml ----------------------------------------------------------------------------

LineStatus = Literal["official", "secondary", "unverified", "placeholder"]


class LineYear(Strict):
    year: int = Field(ge=1978, le=2100)
    value: float = Field(gt=0)
    status: LineStatus


class LineSpec(Strict):
    label: str
    note: str = ""
    province_code: str | None = None
    values: list[LineYear] = []
    factor_of: str | None = None
    factor: float | None = Field(default=None, gt=0)

    @field_validator("values")
    @classmethod
    def _years_once(cls, values: list[LineYear]) -> list[LineYear]:
        years = [v.year for v in values]
        dup = sorted({y for y in years if years.count(y) > 1})
        if dup:
            raise ValueError(f"year(s) {dup} listed twice")
        return values


# ---- config/header_aliases.toml ---------------------------------------------------------------------

_KIND = re.compile(r"^(text|yes_no|int|decimal|date|id_number|region_code|(code|codes):[a-z_]+)$")


class ColumnSpec(Strict):
    aliases: list[str] = Field(min_length=1)
    kind: str
    required: bool = False
    pii: bool = False
    text_only: bool = False  # an identifier that must be stored as text (readers.py, raw_file.sql)

    @field_validator("kind")
    @classmethod
    def _kind(cls, kind: str) -> str:
        if not _KIND.match(kind):
            raise ValueError("expected text | yes_no | int | decimal | date | id_number | region_code | "
                             f"code:<list> | codes:<list>, got {kind!r}")
        return kind


# ---- config/thresholds.toml -------------------------------------------------------------------------

class Periods(Strict):
    first: str
    last: str


class QuarantineCells(Strict):
    """What a quarantined row keeps of its cells (docs/data_contract.md §3)."""

    max_digits: int = Field(ge=1, le=10)  # 11 would let a mobile phone through
    place_suffixes: list[Annotated[str, StringConstraints(min_length=2)]]


class Places(Strict):
    """How exports that name the place (county, township, village) resolve to a village code."""

    # suffixes dropped (the longest that leaves a character) before names are compared
    county_suffixes: list[Annotated[str, StringConstraints(min_length=1)]]
    township_suffixes: list[Annotated[str, StringConstraints(min_length=1)]]
    village_suffixes: list[Annotated[str, StringConstraints(min_length=1)]]
    candidates: int = Field(ge=1, le=10)  # closest names shown for an unknown one
    # the 户编号's leading digits that are its village's 12-digit code (0 = no such rule)
    household_id_village_digits: Literal[0, 12] = 0


class IngestThresholds(Strict):
    income_identity_tolerance: float = Field(ge=0)
    income_denominator: Literal["household_size_annual", "household_size"]
    income_may_be_negative: CodeList
    max_title_rows: int = Field(ge=0)
    min_header_matches: int = Field(ge=1)
    # a file with more than this share of its rows quarantined fails the run (exit 2)
    max_quarantined_share: float = Field(default=1.0, gt=0, le=1)
    # cells that mark a tick-box column: a file using one anywhere in a yes/no column reads blank as 否
    tick_marks: list[Annotated[str, StringConstraints(min_length=1)]] = ["√"]
    # an 18-digit ID a float holds exactly is damaged when more than this share of its column's
    # IDs in the file are (a clean column has 1 in 16-128 such; one that went through a float, all)
    float_column_share: float = Field(default=0.5, gt=0, lt=1)
    # a row without 户编号 and 人编号 whose 序号 or place cell is one of these is a totals row
    total_row_labels: list[Annotated[str, StringConstraints(min_length=1)]] = ["合计"]
    quarantine: QuarantineCells
    places: Places


class Education(Strict):
    compulsory_age_min: int = Field(ge=0, le=30)
    compulsory_age_max: int = Field(ge=0, le=30)
    not_in_school_statuses: CodeList


class Housing(Strict):
    safe_grades: list[str]
    unsafe_grades: list[str]


class Water(Strict):
    quantity_lpd_meets_rich: float
    quantity_lpd_meets_scarce: float
    fetch_minutes_meets: float
    horizontal_m_meets: float
    vertical_m_meets: float
    outage_days_meets: float
    quantity_lpd_basic_rich: float | None = None
    quantity_lpd_basic_scarce: float | None = None
    fetch_minutes_basic: float | None = None
    horizontal_m_basic: float | None = None
    vertical_m_basic: float | None = None
    outage_days_basic: float | None = None


class Medical(Strict):
    newborn_exempt_below_age: int = Field(default=1, ge=0)


class Limits(Strict):
    """What one raw file may hold (pipelines/ingest/readers.py Limits)."""

    max_file_mb: float = Field(gt=0)
    max_xlsx_part_mb: float = Field(gt=0)
    max_xlsx_total_mb: float = Field(gt=0)
    max_rows: int = Field(ge=1)
    max_columns: int = Field(ge=1)
    max_cells: int = Field(ge=1)
    max_cell_chars: int = Field(ge=1)


class ThresholdsFile(Strict):
    periods: Periods
    ingest: IngestThresholds
    limits: Limits
    education: Education
    water: Water
    medical: Medical = Medical()
    housing: Housing


# ---- config/validate.toml ---------------------------------------------------------------------------

class Ranges(Strict):
    age_min: int
    age_max: int
    work_months_min: float
    work_months_max: float
    income_max: float
    household_size_min: int
    household_size_max: int


class Plausibility(Strict):
    working_age_min: int
    working_age_max: int


class KnownFindings(Strict):
    reasons: CodeList


# the columns of a 问题清单 township sheet, in order (pipelines/validate/sql/print/problem_sheet.sql
# produces them; config/validate.toml [ledger.sheet] gives their headers)
LEDGER_SHEET_COLUMNS = (
    "row_no", "township_name", "village_name", "village_group", "head_name", "household_id", "criterion_label",
    "source_label", "members", "problem", "cadre_name", "cadre_unit", "cadre_phone", "first_found_period", "status", "deadline",
    "days_left", "previous_rectification", "measure", "responsible_unit", "completed_on",
)
LEDGER_SUMMARY_COLUMNS = (
    "region_level", "region_code", "region_name", "new_problems", "open_carried", "disputed", "open_problems",
    "overdue_open", "cleared", "cleared_to_zero", "deadline", "days_to_deadline",
)
# sheet columns `povmon ingest` reads back from a returned sheet (header_aliases.toml [rectification])
LEDGER_READ_BACK = ("township_name", "village_name", "head_name", "household_id", "criterion_label", "status",
                    "measure", "responsible_unit", "completed_on")


class LedgerLabels(Strict):
    status_new: str
    status_open: str
    status_disputed: str
    status_cleared: str
    summary: dict[Code, str]
    sheet: dict[Code, str]


class ValidateFile(Strict):
    ranges: Ranges
    plausibility: Plausibility
    known_findings: KnownFindings
    criteria: dict[Code, str]
    ledger: LedgerLabels


# ---- config/measures.toml ---------------------------------------------------------------------------

class Incidence(Strict):
    poor_group: Code = "poor"
    below_one_in_ten_thousand: float = Field(gt=0, lt=1)


class MeasureLines(Strict):
    named: list[str] = Field(min_length=1)


class Sensitivity(Strict):
    base_line: str
    start_pct: int = Field(gt=0)
    stop_pct: int = Field(gt=0)
    step_pct: int = Field(gt=0)


class SurveySettings(Strict):
    lonely_psu: Literal["adjust", "certainty"]
    confidence_level: float = Field(gt=0, lt=1)
    # the design (config/surveys/<name>.toml) of the survey ingest loads into survey_households
    design: str | None = None


class Profile(Strict):
    dimensions: CodeList
    size_bands: list[tuple[int, int]]


class Multidimensional(Strict):
    indicators: CodeList = Field(min_length=1)
    cutoffs: list[str | int | float] = Field(min_length=1)
    weights: dict[Code, str | int | float]


class MeasuresFile(Strict):
    incidence: Incidence
    lines: MeasureLines
    sensitivity: Sensitivity
    survey: SurveySettings
    profile: Profile
    multidimensional: Multidimensional


# ---- config/surveys/<name>.toml: one survey design each ------------------------------------------

class SurveyColumn(Strict):
    """A column of the survey file: its header spellings and how its cells are read."""

    aliases: list[str] = Field(min_length=1)
    kind: Literal["text", "decimal", "int", "yes_no"] = "text"  # yes_no: labels of code_labels.toml [yes_no]
    required: bool = True


class SurveyTotal(Strict):
    """The whole-sample domain: its level, code and name (a foreign survey is not the city)."""

    level: str = "all"
    code: str = "all"
    name: str


class SurveyDomain(Strict):
    """A column whose values are domains (codes or words); labels optional (value -> name)."""

    column: str
    labels: dict[str, str] = {}


class SurveyRelativeLine(Strict):
    """A line at a share of the weighted median income, estimated from the same sample."""

    share: float = Field(gt=0, le=2)
    bandwidth_factor: float = Field(default=0.79, gt=0)  # h = factor x IQR x n^(-1/5), Gaussian kernel


class SurveyDesign(Strict):
    """Which columns play which role. A column may play several (household id = PSU)."""

    weight: str
    weight_kind: Literal["person", "household"]
    household_size: str | None = None
    stratum: str | None = None  # none: one stratum
    psu: str | None = None  # none: each row is its own PSU
    psu2: str | None = None  # second-stage unit: adds variance only with fpc and fpc2 (as R)
    fpc: str | None = None  # population PSU count of the stratum (>= 1) or sampling fraction (< 1); none: with replacement
    fpc2: str | None = None  # population SSU count of the PSU (>= 1) or the second stage's sampling fraction (< 1)
    lonely_psu: Literal["adjust", "certainty"] = "adjust"
    income: str
    income_concept: Literal["per_capita", "equivalised", "household_total"]
    household_id: str | None = None


class SurveyMultidimensional(Strict):
    """Alkire–Foster over the survey's own deprivation flags (yes_no columns)."""

    indicators: dict[Code, str] = Field(min_length=1)  # indicator -> column (deprived = yes)
    weights: dict[Code, str | int | float]
    cutoffs: list[str | int | float] = Field(min_length=1)


class SurveyDesignFile(Strict):
    label: str
    files: str = Field(min_length=1)  # glob under data/raw, {period} replaced by the quarter
    unit: Literal["person", "household"]
    total: SurveyTotal
    columns: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")], SurveyColumn] = Field(min_length=1)
    design: SurveyDesign
    domains: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")], SurveyDomain] = {}
    relative_lines: list[SurveyRelativeLine] = []
    multidimensional: SurveyMultidimensional | None = None


# ---- config/risk.toml -------------------------------------------------------------------------------

class RiskIncome(Strict):
    columns: CodeList = Field(min_length=1)


class Signals(Strict):
    transfer_share_min: Number
    single_migrant_wage_share_min: Number
    income_drop_min: Number
    rigid_spending_ratio: Number
    large_medical_min: Number
    labour_capable: CodeList
    migrant_statuses: CodeList
    illness_disability_columns: CodeList
    shock_causes: CodeList
    shock_cause_columns: CodeList
    shock_flag_columns: CodeList = []


class Signal(Strict):
    code: Code
    label: str


class Band(Strict):
    """Income band: the first band whose line the income is strictly below; line "" = the rest.
    `signal` names the fragility signal a household in this band carries (none when omitted)."""

    code: Code
    label: str
    line: Literal["national", "guideline", "monitoring", ""]
    signal: Code | None = None


class Level(Strict):
    code: Code
    label: str
    any_of: CodeList = []
    min_signals: int = Field(default=0, ge=0)


class Categories(Strict):
    not_proposed_group: Code
    exited_group: Code
    unstable_signals: CodeList
    sudden_signals: CodeList


class Clause(Strict):
    """A condition on a household: every key given must hold."""

    status_group_in: CodeList | None = None
    poverty_status_in: CodeList | None = None
    household_type_in: CodeList | None = None
    category_in: CodeList | None = None
    signals_any: CodeList | None = None
    below_line: Literal["national", "guideline", "monitoring"] | None = None
    level_in: CodeList | None = None
    monitored: bool | None = None

    def items(self) -> list[tuple[str, object]]:
        """The keys that were given, in declaration order."""
        return [(k, v) for k, v in self.model_dump(exclude_none=True).items()]


class WatchGroup(Strict):
    code: Code
    label: str
    when: list[Clause] = Field(min_length=1)


class Elimination(Strict):
    consecutive_quarters: int = Field(ge=1)
    blocking_signals: CodeList
    keep_tracking_signals: CodeList


class Requirement(Strict):
    code: Code
    label: str
    applies_to: Clause
    ranks: CodeList


class Assistance(Strict):
    max_households_per_cadre: int = Field(ge=1)
    max_households_by_rank: dict[Code, int] = {}
    requirements: list[Requirement]


class CardPolicy(Strict):
    """A policy a 明白卡 lists when the export records it for the household (config/risk.toml)."""

    code: Code
    label: str
    amount: Code | None = None  # household transfer column (yuan)
    members: Code | None = None  # person yes/no column
    household_flag: Code | None = None  # household yes/no column
    household_codes: Code | None = None  # household code column ...
    codes: CodeList = []  # ... and its codes that mean the policy


class Cards(Strict):
    policies: list[str]
    max_measures: int = Field(ge=0)
    not_in_export: list[str] = []
    received: list[CardPolicy] = []


class TransitionLabels(Strict):
    absent_label: str
    not_registered_label: str


class RiskFile(Strict):
    income: RiskIncome
    signals: Signals
    signal: list[Signal]
    bands: list[Band] = Field(min_length=1)
    levels: list[Level] = Field(min_length=1)
    no_risk_label: str
    categories: Categories
    category_labels: dict[Code, str]
    watch_groups: list[WatchGroup]
    elimination: Elimination
    elimination_labels: dict[Code, str]
    assistance: Assistance
    gap_labels: dict[Code, str]
    measures: dict[Code, str]
    cards: Cards
    transitions: TransitionLabels


# ---- config/report.toml -----------------------------------------------------------------------------

class SmallCells(Strict):
    threshold: int = Field(ge=2)
    label: str  # a count 1..threshold-1 withheld (primary), e.g. "<{threshold}"
    hidden_label: str  # a count withheld so that no other can be worked out (complementary)
    complementary: bool = True


class Audience(Strict):
    label: str  # said on the page and in the workbook
    note: str
    suppress: bool  # small-cell protection applied


class ReportIncidence(Strict):
    lines: list[str]


class Figures(Strict):
    font_family: str
    width: int
    height: int
    png: bool


class Within(Strict):
    by: list[str]  # e.g. ["county_code"]: each county (and the city's totals rows)
    total: dict[str, str]  # the one row of the group the others add up to, e.g. { project_type = "all" }


class TableSpec(Strict):
    sheet: str
    title: str
    source: str = ""  # where the numbers come from: a template over [sources] ({registry}, ...)
    columns: dict[str, str]
    counts: list[str] = []  # counts of households or persons: withheld when small (public)
    integers: list[str] = []  # other whole numbers (populations, rows, changes): shown without decimals
    shares: list[str] = []
    money: list[str] = []
    wan: list[str] = []  # money in 万元 (two decimals): the project lists' amounts
    months: list[str] = []
    dates: list[str] = []
    group: list[str] = []  # the totals row sums the rows within each group
    within: Within | None = None  # and, within each `by` group, the rows add up to the `total` row
    together: list[list[str]] = []  # counts of the same units (households, their persons): withheld together
    sums: dict[str, list[str]] = {}  # a count that is the sum of others in its row
    linked: dict[str, str | list[str]] = {}  # a rate or difference withheld with the counts it comes from
    changes: dict[str, str] = {}  # a change from the previous quarter's row (by period within group)
    same_as: dict[str, str] = {}  # a column showing another table's figures: withheld as "table.column" is
    same_key: str = ""  # ... matching rows on this column (and the totals row)
    lines: list[str] = []  # line roles the table's figures depend on (a placeholder value gets a ⚠)
    page_rows: int | None = None  # rows shown on the page (all in the workbook)
    on_page: bool = True  # false: in the workbook only (its numbers are on the page as cards)
    status: str = ""  # column holding ok | open | late: the row's colour on the page
    only_with_rows: bool = False  # shown (page and workbook) only when the quarter has rows: optional data
    audiences: list[str] = []  # shown only to these audiences ([audiences]); empty: to every audience


CellValue = str | int | float | bool


class CardSpec(Strict):
    """A headline card: the row(s) of a table it reads and the text templates it fills."""
    table: Code
    style: Literal["card", "answer", "note"] = "card"
    answer: str = ""  # style answer: the yes/no in large type
    status: str = ""  # template giving ok | open | late (the card's colour)
    lines: list[str] = []  # line roles the card's numbers depend on (a placeholder value gets a ⚠)
    where: dict[str, CellValue | list[CellValue]] = {}  # column = value, or one of a list ("{period}": the quarter)
    each: bool = False  # one card per matching row (else: the first row; {sum.col} sums them all)
    default: dict[str, CellValue] | None = None  # the row to use when none matches (else: no card)
    requires: list[str] = []  # columns that must be non-null for the card to show
    value: str
    label: str = ""
    note: str = ""


Chart = Literal["incidence_trend", "county_bars", "grouped_by_county", "gap_progress", "transition_sankey",
                "horizontal_bars"]


class FigureSpec(Strict):
    """A figure drawn from a table's published (suppressed) frame by one function of charts.py."""
    key: Code
    chart: Chart
    table: Code
    title: str = ""
    y_title: str = ""
    series: dict[str, str] = {}  # county_bars: {column: legend label}
    fold: bool = False  # transition_sankey: households whose status did not change named, not drawn
    lines: list[str] = []
    category: str = ""  # stacked_by_county / horizontal_bars: the category column
    value: str = ""  # stacked_by_county / horizontal_bars: the value column


class LinkSpec(Strict):
    href: str
    text: str


class SectionSpec(Strict):
    key: Code
    title: str
    cards: list[CardSpec] = []
    definitions: list[Code] = []
    figures: list[FigureSpec] = []
    tables: list[Code] = []
    links: list[LinkSpec] = []


class PageOne(Strict):
    safety_net: CodeList  # 贫困户属性 codes counted as 兜底 households
    validation_not_run: str
    validation_passed: str
    validation_overridden: str
    validation_failed: str
    line_warning: str


class Inputs(Strict):
    required: dict[Code, str]  # table -> the command that writes it (its quarter must be there)
    nonempty: list[Code]  # of those, tables that must also hold rows for the quarter
    needs_previous: list[Code] = []  # required only when the previous quarter has data


class WorkbookSpec(Strict):
    """A one-workbook output beside summary.xlsx (交总账): published tables, one sheet each."""
    file: str  # file name; {period} is the quarter
    title: str
    tables: list[Code] = Field(min_length=1)


class ReportFile(Strict):
    total_label: str
    inputs: Inputs
    small_cells: SmallCells
    audiences: dict[Code, Audience]
    page_one: PageOne
    incidence: ReportIncidence
    figures: Figures
    sources: dict[str, str]
    labels: dict[Code, dict[str, str]]
    definitions: dict[Code, str]
    sections: list[SectionSpec]
    tables: dict[Code, TableSpec]
    workbooks: dict[Code, WorkbookSpec] = {}


# ---- config/audit.toml: what `povmon audit-pii` counts as personal data (pipelines/audit.py) ---------

class AuditExceptions(Strict):
    cadre_contacts: bool
    print_folders: list[str]
    print_kinds: list[Literal["name", "household_id"]]  # the raw values excused in print-time documents


class AuditFile(Strict):
    min_identifier_chars: int = Field(ge=1)
    min_phone_digits: int = Field(ge=1)
    name_chars: tuple[int, int]
    text_suffixes: list[Annotated[str, StringConstraints(pattern=r"^\.[a-z0-9]+$")]]
    workbook_suffixes: list[Annotated[str, StringConstraints(pattern=r"^\.[a-z0-9]+$")]]
    exceptions: AuditExceptions

    @field_validator("name_chars")
    @classmethod
    def _name_chars(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not 1 <= value[0] <= value[1]:
            raise ValueError(f"expected [min, max] with 1 <= min <= max, got {list(value)}")
        return value


# ---- config/notebooks.toml -----------------------------------------------------------------------------

class NotebooksFile(Strict):
    levels: dict[Code, str]
    roles: dict[Code, str]
    columns: dict[str, str]
    measures: dict[str, str]
    values: dict[str, str]


# ---- config/synth.toml: the generator's tunables (its own code checks them) --------------------------

class SynthFile(Loose):
    pass


# ---- config/tasks.toml: the rectification tracker (issue 16 part 2, pipelines/tasks/) ---------------

TASK_STATUSES = ("on_time", "overdue", "done", "done_late", "reopened")
TASK_KINDS = ("task", "instruction")


class TaskCompletion(Strict):
    done: list[str] = Field(min_length=1)
    open: list[str] = Field(min_length=1)
    rebound: list[str] = Field(min_length=1)


class TaskDeadline(Strict):
    code: Code
    label: str
    year: int = Field(ge=2000, le=2099)
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    categories: CodeList = []  # empty: every category


class TaskMasking(Strict):
    min_digits: int = Field(ge=4, le=20)
    group_min_digits: int = Field(ge=2, le=8)
    pair_long_digits: int = Field(ge=4, le=20)
    mask_text: str


class TaskWorkbook(Strict):
    title: str
    instruction_sheet: str


class TasksFile(Strict):
    categories: dict[Code, list[str]] = Field(min_length=1)
    completion: TaskCompletion
    deadlines: list[TaskDeadline] = Field(min_length=1)
    status_labels: dict[Code, str]
    kind_labels: dict[Code, str]
    masking: TaskMasking
    workbook: TaskWorkbook

# ---- config/departments.toml (issue 16 part 1: department cross-checks) ------------------------------

class Department(Strict):
    label: str = Field(min_length=1)
    aliases: str = Field(min_length=1)  # header_aliases.toml section of the department's list


class CrosscheckThresholds(Strict):
    out_of_pocket_warning_yuan: Number = Field(gt=0)
    enrolled_codes: CodeList = Field(min_length=1)
    assistance_codes: CodeList = Field(min_length=1)
    death_codes: CodeList = Field(min_length=1)


class CrosscheckRule(Strict):
    code: Code
    department: Code
    label: str = Field(min_length=1)


class DepartmentsFile(Strict):
    registry_label: str = Field(min_length=1)
    departments: dict[Code, Department] = Field(min_length=1)
    thresholds: CrosscheckThresholds
    rule: list[CrosscheckRule] = Field(min_length=1)
    synth: "DepartmentSynth"


class DepartmentSynth(Strict):
    plants: dict[Code, int]  # rule -> planted discrepancies per quarter (and chunk)
    decoys: int = Field(ge=0)
    out_of_pocket_max: Number = Field(gt=0)


DepartmentsFile.model_rebuild()

# ---- config/warehouse.toml ----------------------------------------------------------------------

class Lock(Strict):
    wait_seconds: Number = Field(ge=0)


class Snapshots(Strict):
    keep: int = Field(ge=1)


MemorySize = Annotated[str, StringConstraints(pattern=r"^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")]


class Engine(Strict):
    """DuckDB settings every stage's connection gets (pipelines.warehouse.connect)."""

    memory_limit: MemorySize
    temp_directory: str = ""  # "" = the transaction's own work folder (or DuckDB's default)
    threads: int = Field(ge=1)
    # ingest: the share of memory_limit its readers' rows may take in Python before they are
    # loaded (batches flushed at it); its DuckDB gets the rest (pipelines/ingest/pipeline.py)
    reader_share: Number = Field(default=0.25, gt=0, lt=1)


class WarehouseFile(Strict):
    lock: Lock
    snapshots: Snapshots
    engine: Engine

