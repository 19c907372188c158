"""The rectification tracker on a task list written by hand as an office keeps it
(docs/data_contract.md, tasks): a title row, 问题类别 merged down, dates as 2020年4月30日 / 2020.4.30
/ 4月底 / an Excel date cell; statuses per quarter computed by hand against the city's deadlines
(config/tasks.toml: 巡视反馈 by 2020-04-30, everything by 2020-06-30)."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest
from openpyxl import Workbook, load_workbook

from pipelines import warehouse
from pipelines.ingest.pipeline import run as ingest
from pipelines.tasks.pipeline import run as tasks

HEADERS = ["序号", "问题类别", "问题描述", "责任单位", "牵头领导", "整改措施", "整改时限", "整改进展", "完成情况", "完成时间"]
INSTRUCTION_HEADERS = ["文号", "下发日期", "接收单位", "内容", "办结时限", "办结情况", "办结日期"]
PHONE = "13912345678"
ID_NUMBER = "34052419800101001X"
HYPHEN_PHONE = "187-2742-8023"  # digit groups joined: masked too, while the date beside it is kept

# (序号, 问题类别 (None = merged from above), 问题描述, 责任单位, 整改时限, 完成情况, 完成时间)
Q2_TASKS = [
    ("1", "巡视反馈", "帮扶工作流于形式", "市扶贫办", "2020年5月31日", "已完成", "2020.4.20"),
    ("2", None, "资金拨付滞后", "市教育局", "2020.4.30", "已完成", "2020年5月10日"),
    ("3", None, f"联系电话{PHONE}的户反映危房未改造，身份证{ID_NUMBER}", "市医保局", "4月底", "整改中", None),
    ("4", "大排查", "监测户帮扶措施针对性不强", "市住建局", dt.datetime(2020, 9, 30), "整改中", None),
    ("5", None, "公益岗位管理不规范", "市水务局", "6月底", "已完成", "2020年6月1日"),
    ("6", "省交办", "饮水季节性缺水", "市民政局", "2020年5月31日", "回头看发现反弹", None),
    ("7", None, "资助政策落实不精准", "市民政局", None, "整改中", None),
    ("8", "其他", "档案归档不规范", "市扶贫办", "尽快", "整改中", None),
    ("5", None, "重复录入", "市扶贫办", "2020年6月30日", "整改中", None),
    ("9", "不存在的类别", "类别不明", "市扶贫办", "2020年6月30日", "整改中", None),
    ("10", "其他", "公示栏未更新", "市扶贫办", "2020年6月30日", "完成了吗", None),
    ("11", None, "信访件办理不及时", "市人社局", "2020年6月30日", "已完成", "2020-06-30"),
]
Q3_TASKS = [
    ("1", "巡视反馈", "帮扶工作流于形式", "市扶贫办", "2020年5月31日", "已完成", "2020.4.20"),
    ("2", None, "资金拨付滞后", "市教育局", "2020.4.30", "已完成", "2020年5月10日"),
    ("3", None, f"危房未改造，2020-04-30回访，联系电话{HYPHEN_PHONE}", "市医保局", "4月底", "整改中", None),
    ("4", "大排查", "监测户帮扶措施针对性不强", "市住建局", dt.datetime(2020, 9, 30), "整改中", None),
    ("5", None, "公益岗位管理不规范", "市水务局", "6月底", "整改中", None),
    ("6", "省交办", "饮水季节性缺水", "市民政局", "2020年5月31日", "已完成", "2020年8月1日"),
    # 序号 11 was 市人社局's 其他 problem, done in 2020Q2: here the office gave it to a new problem
    ("11", "大排查", "易地搬迁后续产业未落实", "市扶贫办", "2020年9月30日", "整改中", None),
]
Q2_INSTRUCTIONS = [
    ("晋脱贫办发〔2020〕1号", "2020年3月1日", "市教育局", "关于核查的通知", "2020年3月31日", "已办结", "2020年3月20日"),
    ("晋脱贫办发〔2020〕2号", "2020.4.1", "市医保局", "关于医疗救助的通知", "2020.4.30", "办理中", None),
    ("晋脱贫办发〔2020〕3号", dt.datetime(2020, 5, 1), "市住建局", "关于危房排查的通知", "2020年7月15日", "办理中", None),
    ("晋脱贫办发〔2020〕4号", "2020年5月5日", "市水务局", "关于饮水的通知", "2020年5月20日", "已办结", "2020年6月2日"),
    ("晋脱贫办发〔2020〕5号", None, "市民政局", "日期缺失", "2020年6月30日", "办理中", None),
]
Q3_INSTRUCTIONS = [
    # 文号 1号 went to 市教育局 and was done in 2020Q2: here it names another recipient, a new instruction
    ("晋脱贫办发〔2020〕1号", "2020年7月1日", "市民政局", "关于低保核查的通知", "2020年9月1日", "办理中", None),
    ("晋脱贫办发〔2020〕2号", "2020.4.1", "市医保局", "关于医疗救助的通知", "2020.4.30", "已办结", "2020年7月1日"),
    ("晋脱贫办发〔2020〕3号", dt.datetime(2020, 5, 1), "市住建局", "关于危房排查的通知", "2020年7月15日", "办理中", None),
]

# hand-computed: (status, due_on, days_overdue)
EXPECTED_TASKS = {
    "2020Q2": {
        "1": ("done", "2020-04-30", 0),  # own 5-31, capped by the April deadline; done 4-20
        "2": ("done_late", "2020-04-30", 10),  # done 5-10
        "3": ("overdue", "2020-04-30", 61),  # open at 6-30
        "4": ("on_time", "2020-06-30", 0),  # own 9-30 capped to 6-30, not passed at 6-30
        "5": ("done", "2020-06-30", 0),
        "6": ("reopened", "2020-05-31", 30),  # 回头看发现反弹
        "11": ("done", "2020-06-30", 0),
    },
    "2020Q3": {
        "1": ("done", "2020-04-30", 0),
        "2": ("done_late", "2020-04-30", 10),
        "3": ("overdue", "2020-04-30", 153),
        "4": ("overdue", "2020-06-30", 92),
        "5": ("reopened", "2020-06-30", 92),  # done on the 2020Q2 list, open on this one
        "6": ("done_late", "2020-05-31", 62),  # done 8-1
        "11": ("overdue", "2020-06-30", 92),  # a new problem (not the done 2020Q2 one): not reopened
    },
}
EXPECTED_QUARANTINE = {  # 2020Q2 only: (序号 row, reason)
    ("missing_deadline", "整改时限"), ("bad_deadline", "整改时限"), ("duplicate_task_no", "序号"),
    ("unknown_task_category", "问题类别"), ("unknown_completion", "完成情况"), ("bad_issue_date", "下发日期"),
}
EXPECTED_INSTRUCTIONS = {
    "2020Q2": {"晋脱贫办发〔2020〕1号": ("done", 0), "晋脱贫办发〔2020〕2号": ("overdue", 61),
               "晋脱贫办发〔2020〕3号": ("on_time", 0), "晋脱贫办发〔2020〕4号": ("done_late", 13)},
    "2020Q3": {"晋脱贫办发〔2020〕2号": ("done_late", 62), "晋脱贫办发〔2020〕3号": ("overdue", 77),
               "晋脱贫办发〔2020〕1号": ("overdue", 29)},  # a new instruction under a used 文号: not reopened
}


def write_list(path, period_title: str, rows: list[tuple], instructions: list[tuple]) -> None:
    """The office's workbook: title row merged over the columns, header, 问题类别 merged down."""
    wb = Workbook()
    ws = wb.active
    ws.title = "问题整改台账"
    ws.cell(1, 1, f"晋城市脱贫攻坚问题整改台账（{period_title}）")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    for j, h in enumerate(HEADERS, start=1):
        ws.cell(2, j, h)
    start = None
    for i, (no, cat, desc, unit, deadline, done, when) in enumerate(rows, start=3):
        values = [no, cat, desc, unit, "分管副市长", "制定方案", deadline, "推进中", done, when]
        for j, v in enumerate(values, start=1):
            if v is not None:
                ws.cell(i, j, v)
        if cat is not None:
            if start is not None and i - 1 > start:
                ws.merge_cells(start_row=start, start_column=2, end_row=i - 1, end_column=2)
            start = i
    last = 2 + len(rows)
    if start is not None and last > start:
        ws.merge_cells(start_row=start, start_column=2, end_row=last, end_column=2)
    ws2 = wb.create_sheet("指令办理")
    for j, h in enumerate(INSTRUCTION_HEADERS, start=1):
        ws2.cell(1, j, h)
    for i, row in enumerate(instructions, start=2):
        for j, v in enumerate(row, start=1):
            if v is not None:
                ws2.cell(i, j, v)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def _q(sql: str, *args) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(sql, list(args)).fetchall()


@pytest.fixture(scope="module")
def tracked(small_city, tmp_path_factory):
    """A raw folder with the small city's registry and the hand-written lists of 2020Q2 and 2020Q3,
    ingested for those quarters, tasks run for both."""
    root = tmp_path_factory.mktemp("tasks_fixture")
    raw = root / "raw"
    raw.mkdir()
    for kind in ("registry", "pairing", "survey", "reference"):
        (raw / kind).symlink_to(small_city / "raw" / kind, target_is_directory=True)
    write_list(raw / "tasks" / "2020Q2" / "任务清单.xlsx", "截至2020年6月30日", Q2_TASKS, Q2_INSTRUCTIONS)
    write_list(raw / "tasks" / "2020Q3" / "任务清单.xlsx", "截至2020年9月30日", Q3_TASKS, Q3_INSTRUCTIONS)
    processed = root / "processed"
    ingest(raw_dir=raw, processed_dir=processed, periods=["2020Q2", "2020Q3"])
    results = {p: tasks(processed, p, root / "reports") for p in ("2020Q2", "2020Q3")}
    return root, processed, results


def _status(processed, table: str, period: str, key: str) -> dict:
    return {r[0]: r[1:] for r in _q(f"select {key}, status, cast(due_on as varchar), days_overdue from "
                                    f"read_parquet('{warehouse.stable_path(processed, table, period)}')")}


@pytest.mark.parametrize("period", ["2020Q2", "2020Q3"])
def test_task_statuses_match_hand_computation(tracked, period):
    _, processed, _ = tracked
    assert _status(processed, "task_status", period, "task_no") == EXPECTED_TASKS[period]


@pytest.mark.parametrize("period", ["2020Q2", "2020Q3"])
def test_instruction_statuses_match_hand_computation(tracked, period):
    _, processed, _ = tracked
    got = {k: (v[0], v[2]) for k, v in _status(processed, "instruction_status", period, "doc_no").items()}
    assert got == EXPECTED_INSTRUCTIONS[period]


def test_every_row_loaded_or_quarantined_with_its_reason(tracked):
    _, processed, _ = tracked
    rows = _q(f"select reason, column_name from read_parquet('{warehouse.stable_path(processed, 'quarantine', '2020Q2')}') "
              "where source_kind in ('tasks', 'instructions')")
    assert set(rows) == EXPECTED_QUARANTINE and len(rows) == len(EXPECTED_QUARANTINE)
    manifest = {(r[0], r[1]): r[2:] for r in _q(
        f"select sheet, period, rows_read, rows_loaded, rows_quarantined from "
        f"read_parquet('{warehouse.stable_path(processed, 'ingest_manifest')}') where source_kind in ('tasks', 'instructions')")}
    assert manifest[("问题整改台账", "2020Q2")] == (len(Q2_TASKS), 7, 5)
    assert manifest[("指令办理", "2020Q2")] == (len(Q2_INSTRUCTIONS), 4, 1)
    assert manifest[("问题整改台账", "2020Q3")] == (len(Q3_TASKS), len(Q3_TASKS), 0)


def test_merged_category_and_dates_read(tracked):
    _, processed, _ = tracked
    rows = dict(_q(f"select task_no, category from read_parquet('{warehouse.stable_path(processed, 'tasks', '2020Q2')}')"))
    assert rows["2"] == rows["3"] == "inspection" and rows["5"] == "survey" and rows["11"] == "other"
    deadline = dict(_q(f"select task_no, cast(deadline as varchar) from "
                       f"read_parquet('{warehouse.stable_path(processed, 'tasks', '2020Q2')}')"))
    assert deadline["3"] == "2020-04-30" and deadline["4"] == "2020-09-30" and deadline["1"] == "2020-05-31"


def test_description_digits_masked(tracked):
    _, processed, _ = tracked
    text = _q(f"select description from read_parquet('{warehouse.stable_path(processed, 'tasks', '2020Q2')}') "
              "where task_no = '3'")[0][0]
    assert PHONE not in text and ID_NUMBER not in text and not re.search(r"[0-9]{7,}", text)
    assert "＊＊＊" in text and "危房未改造" in text


def test_per_unit_workbook_read_back(tracked):
    root, _, results = tracked
    book = load_workbook(root / "reports" / "2020Q3" / "整改清单" / "整改清单_2020Q3.xlsx")
    assert book.sheetnames[0] == "汇总" and "市住建局" in book.sheetnames and book.sheetnames[-1] == "指令办理"
    ws = book["市住建局"]
    header = [c.value for c in ws[2]]
    assert header[:3] == ["序号", "问题类别", "问题描述"]
    row = dict(zip(header, [c.value for c in ws[3]]))
    assert row["序号"] == "4" and row["状态"] == "逾期未完成" and row["逾期天数"] == 92
    assert row["应完成日期"].date() == dt.date(2020, 6, 30) and row["整改时限"].date() == dt.date(2020, 9, 30)
    summary = {r[0]: r for r in book["汇总"].iter_rows(min_row=3, values_only=True)}
    assert summary["市水务局"][1:6] == (1, 0, 0, 0, 1)  # 1 problem, reopened
    inst = [r for r in book["指令办理"].iter_rows(min_row=3, values_only=True)]
    assert inst[0][:2] == ("市住建局", "晋脱贫办发〔2020〕3号") and inst[0][5] == "逾期未完成"  # overdue first


def test_rerun_is_byte_identical(tracked, tmp_path):
    root, processed, _ = tracked
    book = root / "reports" / "2020Q3" / "整改清单" / "整改清单_2020Q3.xlsx"
    first = (book.read_bytes(), warehouse.stable_path(processed, "task_status", "2020Q3").read_bytes())
    tasks(processed, "2020Q3", root / "reports")
    assert (book.read_bytes(), warehouse.stable_path(processed, "task_status", "2020Q3").read_bytes()) == first


def test_list_without_a_required_column_refused(small_city, tmp_path):
    """A task list whose 整改时限 column is missing stops ingest with one line naming file, sheet and column."""
    from pipelines.ingest.readers import IngestError

    raw = tmp_path / "raw"
    raw.mkdir()
    for kind in ("registry", "pairing", "survey", "reference"):
        (raw / kind).symlink_to(small_city / "raw" / kind, target_is_directory=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append([h for h in HEADERS if h != "整改时限"])
    ws.append(["1", "巡视反馈", "问题", "市扶贫办", "分管副市长", "措施", "推进中", "整改中", None])
    (raw / "tasks" / "2020Q2").mkdir(parents=True)
    wb.save(raw / "tasks" / "2020Q2" / "清单.xlsx")
    with pytest.raises(IngestError) as err:
        ingest(raw_dir=raw, processed_dir=tmp_path / "processed", periods=["2020Q2"])
    message = str(err.value)
    assert "\n" not in message and "tasks/2020Q2/清单.xlsx" in message and "台账" in message and "deadline" in message


def test_reused_number_is_a_new_item_and_flagged(tracked):
    """序号 11 / 文号 1号 of 2020Q3 name another problem / recipient than the done ones of 2020Q2: new
    items (not done before, not reopened), flagged as a reused number; 序号 5 (same problem) is not."""
    _, processed, _ = tracked
    tasks_q3 = {r[0]: r[1:] for r in _q(f"select task_no, done_before, task_no_reused, category from read_parquet("
                                         f"'{warehouse.stable_path(processed, 'task_status', '2020Q3')}')")}
    assert tasks_q3["11"] == (False, True, "survey")
    assert tasks_q3["5"] == (True, False, "survey")
    assert sum(r[1] for r in tasks_q3.values()) == 1
    inst_q3 = {r[0]: r[1:] for r in _q(f"select doc_no, done_before, doc_no_reused from read_parquet("
                                        f"'{warehouse.stable_path(processed, 'instruction_status', '2020Q3')}')")}
    assert inst_q3 == {"晋脱贫办发〔2020〕1号": (False, True), "晋脱贫办发〔2020〕2号": (False, False),
                       "晋脱贫办发〔2020〕3号": (False, False)}


def test_hyphenated_phone_masked_everywhere_date_kept(tracked):
    """2020Q3 序号 3 writes its phone as 187-2742-8023: masked in tasks, task_status and the workbook;
    the date 2020-04-30 in the same text is kept."""
    root, processed, _ = tracked
    for table in ("tasks", "task_status"):
        text = _q(f"select description from read_parquet('{warehouse.stable_path(processed, table, '2020Q3')}') "
                  "where task_no = '3'")[0][0]
        assert text == "危房未改造,2020-04-30回访,联系电话＊＊＊"  # text is stored NFKC
    book = load_workbook(root / "reports" / "2020Q3" / "整改清单" / "整改清单_2020Q3.xlsx")
    cells = [str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert "危房未改造,2020-04-30回访,联系电话＊＊＊" in cells
    assert not any(HYPHEN_PHONE in c or "27428023" in c.replace("-", "") for c in cells)
