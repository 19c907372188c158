"""The sample city's rectification tracker (issue 16 part 2): the office's task list per quarter
(巡视反馈 / 省交办 / 大排查 problems) and its written instructions (指令), as offices keep them, under
data/raw/tasks/<YYYYQn>/, plus the planted statuses in data/truth/tasks.csv.

The workbook looks like a real 台账: a title row merged over the columns, the header, 问题类别 merged
down over each category's rows, dates in mixed styles (2020年4月30日, 2020.4.30, 4月底, an Excel date
cell), 整改进展 as free text. The plan (which problem is done when, which comes back at 回头看) is a
small deterministic table drawn from the seed; the truth is computed from the plan with the rule of
docs/data_contract.md (independent of the SQL that computes it from the files). Lists start in the
first quarter of the deadlines' year: earlier quarters have no list (nothing is written for them).

Only role titles name people (分管副市长 …): the lists name units and officials in their role, no
household and no personal name, ID or phone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines import inert
from pipelines.periods import Period

UNITS = ("市扶贫办", "市教育局", "市医保局", "市住建局", "市水务局", "市民政局", "市人社局", "沁水县人民政府",
         "阳城县人民政府", "陵川县人民政府")
LEADERS = ("分管副市长", "市扶贫办主任", "市教育局局长", "市医保局局长", "市住建局局长", "市水务局局长",
           "市民政局局长", "市人社局局长", "沁水县县长", "阳城县县长", "陵川县县长")
PROBLEMS = {
    "inspection": ("脱贫攻坚责任落实不到位，个别乡镇帮扶工作流于形式", "产业扶贫项目带贫机制不健全",
                   "扶贫资金拨付滞后，部分项目资金闲置", "驻村工作队管理不严，考勤制度落实不到位",
                   "易地搬迁后续扶持措施不足", "问题整改台账更新不及时"),
    "assigned": ("饮水安全季节性缺水问题未彻底解决", "建档立卡学生资助政策落实不精准",
                 "慢病签约服务落实不到位", "危房改造验收资料不齐全"),
    "survey": ("部分监测户帮扶措施针对性不强", "公益岗位人员管理不规范", "村级光伏电站收益分配不规范",
               "明白卡信息与台账不一致", "边缘户动态监测不及时", "残疾人两项补贴发放不及时"),
    "other": ("扶贫领域信访件办理不及时",),
}
SHEET_TASKS, SHEET_INSTRUCTIONS = "问题整改台账", "指令办理台账"
TASK_HEADERS = ("序号", "问题类别", "问题描述", "责任单位", "牵头领导", "整改措施", "整改时限", "整改进展", "完成情况",
                "完成时间")
INSTRUCTION_HEADERS = ("文号", "下发日期", "接收单位", "内容", "办结时限", "办结情况", "办结日期")
TRUTH_COLUMNS = ["period", "kind", "item", "category", "unit", "due_on", "status", "reason"]


@dataclass
class Item:
    """One problem or instruction of the plan: due dates and the dates it is done (and undone)."""

    kind: str  # task | instruction
    key: str  # 序号 / 文号
    category: str | None
    text: str
    unit: str
    leader: str | None
    deadline: dt.date
    issued: dt.date
    listed_from: dt.date  # first quarter end whose list holds it
    done_on: dt.date | None  # first completion
    rebound_on: dt.date | None = None  # 回头看 finds it back (a quarter end after done_on)
    redone_on: dt.date | None = None  # done again after the rebound


def _city_caps(tasks_cfg: dict) -> list[tuple[dt.date, set[str] | None]]:
    cats = list(tasks_cfg["categories"])
    return [(dt.date(d["year"], d["month"], d["day"]), set(d["categories"] or cats)) for d in tasks_cfg["deadlines"]]


def due_on(item: Item, period: Period, caps) -> dt.date:
    """The item's due date on the list of `period`: its own deadline, capped for a task by every
    city deadline of the list's year that covers its category."""
    due = item.deadline
    if item.kind == "task":
        for cap, cats in caps:
            if cap.year == period.year and item.category in cats:
                due = min(due, cap)
    return due


def state_on(item: Item, end: dt.date) -> tuple[str, dt.date | None]:
    """What the list of the quarter ending `end` says: (done | open | rebound, completion date)."""
    if item.redone_on is not None and item.redone_on <= end:
        return "done", item.redone_on
    if item.rebound_on is not None and item.rebound_on <= end:
        return "rebound", None
    if item.done_on is not None and item.done_on <= end:
        return "done", item.done_on
    return "open", None


def status_of(item: Item, period: Period, caps, done_before: bool) -> str:
    """The documented rule (docs/data_contract.md, tasks): reopened, done, done_late, overdue, on_time."""
    state, completed = state_on(item, period.end_date)
    if state == "rebound" or (state == "open" and done_before):
        return "reopened"
    due = due_on(item, period, caps)
    if state == "done":
        return "done" if completed is None or completed <= due else "done_late"
    return "overdue" if period.end_date > due else "on_time"


def _day(rng, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))


def plan_items(year: int, rng: np.random.Generator) -> list[Item]:
    """The year's problems and instructions: mostly done on time, some late, some never, one
    rebound at 回头看 (done in Q2, found back in Q3, done again in Q4)."""
    items, n = [], 0
    q1, q2, q3 = dt.date(year, 3, 31), dt.date(year, 6, 30), dt.date(year, 9, 30)
    for category, texts in PROBLEMS.items():
        for text in texts:
            n += 1
            listed = q1 if category != "survey" or n % 2 else q2  # some 大排查 problems join in Q2
            own = {"inspection": dt.date(year, 4, 30), "assigned": dt.date(year, 5, 31),
                   "survey": dt.date(year, 9, 30) if n % 3 == 0 else dt.date(year, 6, 30),
                   "other": dt.date(year, 6, 30)}[category]
            u = int(rng.integers(0, len(UNITS)))
            fate = rng.random()
            if fate < 0.55:
                done = _day(rng, dt.date(year, 2, 1), min(own, dt.date(year, 6, 30)))  # on time
            elif fate < 0.8:
                done = _day(rng, min(own, dt.date(year, 6, 30)) + dt.timedelta(days=5), dt.date(year, 11, 30))  # late
            else:
                done = None  # still open at year end
            items.append(Item("task", str(n), category, text, UNITS[u], LEADERS[min(u + 1, len(LEADERS) - 1)],
                              own, dt.date(year, 1, 15), listed, done))
    # the 回头看 rebound: a problem done in Q2 that the Q3 re-check finds back
    first_survey = next(i for i in items if i.category == "survey" and i.listed_from == q1)
    first_survey.done_on, first_survey.rebound_on, first_survey.redone_on = dt.date(year, 5, 20), q3, dt.date(year, 11, 15)
    first_survey.deadline = dt.date(year, 6, 30)
    for k in range(1, 9):
        issued = dt.date(year, 1 + (k - 1) * 10 // 8, 10 + k)
        deadline = issued + dt.timedelta(days=int(rng.choice([15, 30, 45])))
        fate = rng.random()
        done = (_day(rng, issued, deadline) if fate < 0.6 else
                deadline + dt.timedelta(days=int(rng.integers(5, 60))) if fate < 0.8 else None)
        unit = UNITS[1 + (k * 3) % (len(UNITS) - 1)]
        items.append(Item("instruction", f"晋脱贫办发〔{year}〕{k}号", None,
                          f"关于{('开展回头看', '核查饮水安全', '落实医疗救助', '排查危房', '规范公益岗位', '核实监测户', '推进资金拨付', '更新明白卡')[k - 1]}的通知",
                          unit, None, deadline, issued, issued if issued <= q3 else dt.date(year, 12, 31), done))
    return items


def _written(day: dt.date, style: int, year_of_list: int):
    """A date in one of the offices' styles (a datetime = an Excel date cell)."""
    if style == 0:
        return f"{day.year}年{day.month}月{day.day}日"
    if style == 1:
        return f"{day.year}.{day.month}.{day.day}"
    if style == 2 and day.year == year_of_list and day == _month_end(day):
        return f"{day.month}月底"
    return dt.datetime(day.year, day.month, day.day)


def _month_end(day: dt.date) -> dt.date:
    nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def list_rows(items: list[Item], period: Period) -> tuple[list[tuple], list[tuple]]:
    """(task rows, instruction rows) of the list kept at the end of `period`, as written."""
    end = period.end_date
    tasks, instructions = [], []
    for i, item in enumerate(x for x in items if x.listed_from <= end):
        state, completed = state_on(item, end)
        label = {"done": "已完成", "open": "整改中" if item.kind == "task" else "办理中",
                 "rebound": "回头看发现反弹"}[state]
        when = _written(completed, (i + 1) % 4, period.year) if completed else None
        if item.kind == "task":
            progress = {"done": "已按要求整改到位", "open": "正在推进整改", "rebound": "回头看发现问题反弹，重新整改"}[state]
            tasks.append((item.key, item.category, item.text, item.unit, item.leader, "制定整改方案，明确责任人和时限",
                          _written(item.deadline, i % 4, period.year), progress, label, when))
        else:
            instructions.append((item.key, _written(item.issued, (i + 2) % 4, period.year), item.unit, item.text,
                                 _written(item.deadline, i % 4, period.year), label if state != "rebound" else "办理中",
                                 when))
    return tasks, instructions


def plant_bad_rows(tasks: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """Three rows the loader must quarantine (appended at the end of their category): no 整改时限,
    an unreadable one, a repeated 序号. Returns (rows, truth rows without period)."""
    n = max(int(r[0]) for r in tasks)
    bad = [(str(n + 1), "other", "扶贫档案资料归档不规范", UNITS[0], LEADERS[1], "完善档案", None, "正在推进", "整改中", None),
           (str(n + 2), "other", "村级公示栏内容更新不及时", UNITS[0], LEADERS[1], "定期更新", "尽快", "正在推进", "整改中", None),
           (tasks[0][0], "other", "重复录入的问题", UNITS[0], LEADERS[1], "核实", "2020年6月30日", "正在推进", "整改中", None)]
    truth = [("task", bad[0][0], "other", UNITS[0], "", "", "missing_deadline"),
             ("task", bad[1][0], "other", UNITS[0], "", "", "bad_deadline"),
             ("task", bad[2][0], "other", UNITS[0], "", "", "duplicate_task_no")]
    return bad, truth


def write_workbook(path: Path, title: str, tasks: list[tuple], categories: dict[str, list[str]],
                   instructions: list[tuple]) -> None:
    """The office's workbook: title row, header, 问题类别 merged down over its rows; 指令 sheet."""
    import xlsxwriter

    from pipelines.synth.writers import _atomic

    def build(tmp: Path) -> None:
        wb = xlsxwriter.Workbook(str(tmp), inert.WORKBOOK_OPTIONS)
        wb.set_properties({"created": dt.datetime(2000, 1, 1)})
        date_fmt = wb.add_format({"num_format": "yyyy/m/d"})
        head = wb.add_format({"bold": True, "border": 1})
        mid = wb.add_format({"valign": "vcenter"})
        ws = wb.add_worksheet(SHEET_TASKS)
        ws.merge_range(0, 0, 0, len(TASK_HEADERS) - 1, title)
        for j, h in enumerate(TASK_HEADERS):
            ws.write_string(1, j, h, head)
        order = list(categories)
        rows = sorted(tasks, key=lambda r: order.index(r[1]))
        r0 = 2
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if j == 1:
                    continue
                if isinstance(v, dt.datetime):
                    ws.write_datetime(r0 + i, j, v, date_fmt)
                elif v is not None:
                    ws.write_string(r0 + i, j, str(v))
        start = 0
        for i in range(1, len(rows) + 1):  # 问题类别 merged down over each category's rows
            if i == len(rows) or rows[i][1] != rows[start][1]:
                label = categories[rows[start][1]][0]
                if i - start > 1:
                    ws.merge_range(r0 + start, 1, r0 + i - 1, 1, label, mid)
                else:
                    ws.write_string(r0 + start, 1, label)
                start = i
        ws2 = wb.add_worksheet(SHEET_INSTRUCTIONS)
        for j, h in enumerate(INSTRUCTION_HEADERS):
            ws2.write_string(0, j, h, head)
        for i, row in enumerate(instructions, start=1):
            for j, v in enumerate(row):
                if isinstance(v, dt.datetime):
                    ws2.write_datetime(i, j, v, date_fmt)
                elif v is not None:
                    ws2.write_string(i, j, str(v))
        wb.close()

    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic(path, build)


def write_tasks(out_dir: Path, periods: list[str], tasks_cfg: dict, seed: int) -> tuple[list[Path], list[tuple]]:
    """Write each quarter's workbook (quarters of the deadlines' first year on); return the files
    and the truth rows (period, kind, item, category, unit, due_on, status, reason)."""
    year = min(d["year"] for d in tasks_cfg["deadlines"])
    items = plan_items(year, np.random.default_rng([seed, 60]))
    caps = _city_caps(tasks_cfg)
    files, truth = [], []
    done_before: set[tuple[str, str]] = set()
    for p in sorted(Period.parse(x) for x in periods):
        if p.year < year:
            continue
        tasks, instructions = list_rows(items, p)
        listed = [i for i in items if i.listed_from <= p.end_date]
        for item in listed:
            status = status_of(item, p, caps, (item.kind, item.key) in done_before)
            truth.append((str(p), item.kind, item.key, item.category or "", item.unit,
                          due_on(item, p, caps).isoformat(), status, ""))
        if p.quarter == 2:
            bad, bad_truth = plant_bad_rows(tasks)
            tasks += bad
            truth += [(str(p), *t[:5], t[5], t[6]) for t in bad_truth]
        for item in listed:
            if state_on(item, p.end_date)[0] == "done":
                done_before.add((item.kind, item.key))
        path = out_dir / "raw" / "tasks" / str(p) / f"晋城市脱贫攻坚问题整改台账_{p}.xlsx"
        write_workbook(path, f"晋城市脱贫攻坚问题整改及指令办理台账（截至{p.end_date.year}年{p.end_date.month}月"
                             f"{p.end_date.day}日）", tasks, tasks_cfg["categories"], instructions)
        files.append(path)
    return files, sorted(truth)
