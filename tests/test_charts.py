"""The charts of a period (cchc.outputs.charts): what they show comes from the warehouse and adds up to the
figures; the PNGs are sized for an A4 text column and drawn in Liberation Serif (the document's Times New
Roman), every Vietnamese letter present; each number is written once and the legend names only what is
drawn; captions date the data the report's way (15/6/2024), the investment as of its own date.

The data tests run on SQLite and PostgreSQL: the H1 sample without two communes (one of Đồ Sơn, one of
An Dương, so the completeness chart has something to chase), and the first three weekly snapshots.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import unicodedata
import warnings
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import copy_files
from helpers import landed

DROPPED = ("DSO01", "ADU01")


@pytest.fixture
def h1(samples, ref, warehouse_url, tmp_path):
    from cchc.figures.consolidate import consolidate_period
    from cchc.loading.ingest import ingest_files, summary
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    files = [f for f in sorted((samples / "h1").glob("*.xlsx")) if not f.name.startswith(DROPPED)]
    files += sorted(f for w in ("2024-W01", "2024-W02", "2024-W03") for f in (samples / "weekly" / w).glob("*.xlsx"))
    # Received on 17/6/2024, before H1's deadline (timeliness is judged by receipt).
    outcomes = ingest_files(engine, ref, [landed(f, dt.date(2024, 6, 17)) for f in copy_files(files, tmp_path / "in")])
    assert summary(outcomes)["accepted"] == 251 + 3 * 36
    return engine, consolidate_period(engine, ref, "2024-H1")


def test_chart_data_adds_up_to_the_figures(h1, ref, tmp_path):
    from cchc.common.periods import parse_period
    from cchc.figures.consolidate import consolidate_week
    from cchc.outputs.charts import chart_data, weekly_trend
    from cchc.outputs.publish import publish_period

    engine, result = h1
    charts = {c.key: c for c in chart_data(engine, ref, result)}
    assert list(charts) == ["plan_tasks", "feedback_funnel", "disbursement", "online_services", "completeness"]
    fig = {c: f.value for c, f in result.figures.items()}

    plan = dict(charts["plan_tasks"].series)
    assert sum(plan["Đã hoàn thành"]) == fig["plan.tasks_done"] == 8
    assert sum(sum(v) for v in plan.values()) == fig["plan.tasks_total"] == 57
    assert charts["plan_tasks"].categories[0] == "Chỉ đạo, điều hành" and plan["Đã hoàn thành"][0] == 3

    funnel = dict(zip(charts["feedback_funnel"].categories, charts["feedback_funnel"].series[0][1], strict=True))
    assert (
        funnel["Tổng số phải xử lý"],
        funnel["Đã giải quyết"],
        funnel["Đang xử lý, trong hạn"],
        funnel["Đang xử lý, quá hạn"],
    ) == (fig["pakn.total"], fig["pakn.resolved"], fig["pakn.in_progress_on_time"], fig["pakn.in_progress_overdue"])
    assert funnel["Tiếp nhận mới"] + funnel["Kỳ trước chuyển sang"] == funnel["Tổng số phải xử lý"]
    assert charts["online_services"].series[0][1] == (1317, 386)
    assert charts["disbursement"].notes_vi == ("23,79%", "20,27%")
    assert "4.048,546 tỷ đồng" in charts["disbursement"].caption_vi

    done = dict(charts["completeness"].series)
    by_district = dict(zip(charts["completeness"].categories, done["Chưa gửi"], strict=True))
    assert by_district["Quận Đồ Sơn"] == 1 and by_district["Huyện An Dương"] == 1 and sum(done["Chưa gửi"]) == 2
    assert sum(done["Đúng hạn"]) == 217 - 2
    # Urban districts first, each group in Vietnamese order (Dương Kinh before Đồ Sơn).
    cats = charts["completeness"].categories
    assert cats.index("Quận Dương Kinh") < cats.index("Quận Đồ Sơn") < cats.index("Huyện An Dương")

    trend = weekly_trend(engine, ref, parse_period("2024-W03"))
    assert trend.categories == ("T01", "T02", "T03") and trend.notes_vi[0] == "07/01/2024"
    w2 = consolidate_week(engine, ref, parse_period("2024-W02"))
    assert dict(trend.series)["Hồ sơ TTHC đã giải quyết"][1] == w2.figures["dossier.resolved"].value

    # The annex draws the same charts natively; without the warehouse, completeness is left out.
    with_engine = publish_period(tmp_path / "a", result, ref, engine=engine)["xlsx"]
    without = publish_period(tmp_path / "b", result, ref)["xlsx"]
    assert len(_chart_parts(with_engine)) == 5 and len(_chart_parts(without)) == 4


def _chart_parts(xlsx) -> list[str]:
    with zipfile.ZipFile(xlsx) as z:
        return [n for n in z.namelist() if n.startswith("xl/charts/chart") and n.endswith(".xml")]


@pytest.fixture(scope="module")
def rendered(samples, ref, tmp_path_factory):
    """The H1 sample on SQLite, its charts rendered once (warnings kept to look for missing glyphs)."""
    import time

    from cchc.figures.consolidate import consolidate_period
    from cchc.loading.ingest import ingest_files
    from cchc.outputs.charts import chart_data, render_charts
    from cchc.warehouse.engine import prepare

    tmp = tmp_path_factory.mktemp("charts")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CCHC_DATA_DIR", str(tmp / "data"))
        engine = prepare(f"sqlite:///{tmp / 'w.db'}", ref)
        ingest_files(engine, ref, copy_files(sorted((samples / "h1").glob("*.xlsx")), tmp / "in"))
        result = consolidate_period(engine, ref, "2024-H1")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            started = time.perf_counter()
            images = render_charts(engine, ref, result, tmp / "png")
            seconds = time.perf_counter() - started
        data = chart_data(engine, ref, result)
    print(f"\n{len(images)} charts rendered in {seconds:.2f} s")
    return images, [str(w.message) for w in caught], data


def test_pngs_fit_an_a4_text_column(rendered):
    from PIL import Image

    images, _, _ = rendered
    assert [i.key for i in images] == [
        "plan_tasks",
        "feedback_funnel",
        "disbursement",
        "online_services",
        "completeness",
    ]
    for image in images:
        assert image.path.name == f"2024-H1_{image.key}.png"
        with Image.open(image.path) as im:
            assert im.format == "PNG"
            dpi = im.info["dpi"][0]
            width_cm, height_cm = im.width / dpi * 2.54, im.height / dpi * 2.54
        assert 150 <= dpi <= 200 and 15.5 <= width_cm <= 16.5 and 5 <= height_cm <= 14, (image.key, dpi, im.size)
        assert not image.caption_vi.startswith("Biểu đồ")
        # The report's dates: no zero before a month from March on; public investment is disbursed as of the
        # end of May (the report's "Tính đến hết ngày 31/5/2024"), everything else as of H1's cut-off.
        when = "31/5/2024" if image.key == "disbursement" else "15/6/2024"
        assert f"số liệu tính đến ngày {when})" in image.caption_vi, image.caption_vi
    captions = " ".join(i.caption_vi for i in images)
    assert "/06/" not in captions
    for text in ("08/57", "138/204 (67,65%)", "4.048,546 tỷ đồng", "23,79%", "1.317 dịch vụ toàn trình"):
        assert text in captions


# Every Vietnamese letter beyond ASCII: 12 vowels with 6 tones (less the 6 plain ASCII ones) and đ, both cases.
_LOWER = sorted(
    {
        unicodedata.normalize("NFC", v + t)
        for v in "aăâeêioôơuưy"
        for t in ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
    }
    - set("aeiouy")
    | {"đ"}
)
VIETNAMESE = "".join(_LOWER) + "".join(ch.upper() for ch in _LOWER)


def _cmap(path) -> set[str]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return {chr(c) for c in font.getBestCmap()}


def _pdf_fonts(pdf) -> set[str]:
    """The fonts a PDF embeds, as pdffonts names them, without the subset prefix (`ABCDEF+`)."""
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {line.split()[0].split("+")[-1] for line in out.splitlines()[2:] if line.strip()}


def test_charts_are_in_liberation_serif_with_every_vietnamese_letter(rendered, tmp_path):
    """Liberation Serif (Times New Roman's metrics), 2.x when the machine has it (every Vietnamese letter,
    so no word is patched with another face); every letter the charts draw is in the fonts drawing it."""
    from matplotlib import font_manager
    from matplotlib.text import Text

    from cchc.outputs.charts import DRAW, FONTS, LIBERATION2, TREND_SERIES, render_chart

    images, caught, data = rendered
    assert len(VIETNAMESE) == 134
    assert not [w for w in caught if "Glyph" in w or "missing from font" in w], caught
    assert FONTS[0] == "Liberation Serif"
    has2 = (LIBERATION2 / "LiberationSerif-Regular.ttf").exists()
    # Every string a chart draws (read from the drawn figures), the captions, the weekly trend's labels.
    texts = [i.caption_vi for i in images] + [label for _, label in TREND_SERIES] + ["Kết quả lũy kế từ đầu năm"]
    for c in data:
        texts += [t.get_text() for t in DRAW[c.kind](c).findobj(Text)]
    chars = {ch for t in texts for ch in t if not ch.isspace()}
    assert {"ệ", "ễ", "ộ", "ư", "Đ", "ồ", "ơ"} <= chars  # the test sees real Vietnamese
    for weight, style in (("normal", "Regular"), ("bold", "Bold")):
        paths = [
            font_manager.findfont(font_manager.FontProperties(family=f, weight=weight), fallback_to_default=False)
            for f in FONTS
        ]
        assert Path(paths[0]).name == f"LiberationSerif-{style}.ttf" and Path(paths[1]).name.startswith("DejaVuSerif")
        if has2:
            assert Path(paths[0]) == LIBERATION2 / f"LiberationSerif-{style}.ttf"
            assert set(VIETNAMESE) <= _cmap(paths[0])  # the whole alphabet in Liberation Serif itself
        missing = sorted(chars - set().union(*(_cmap(p) for p in paths)))
        assert missing == [], (weight, missing)
    # What a reader gets: the fonts embedded in the charts printed to PDF.
    embedded = set().union(*(_pdf_fonts(render_chart(c, tmp_path / f"{c.key}.pdf")) for c in data))
    assert {"LiberationSerif", "LiberationSerif-Bold"} <= embedded
    assert embedded <= {"LiberationSerif", "LiberationSerif-Bold"} | (
        set() if has2 else {"DejaVuSerif", "DejaVuSerif-Bold"}
    )


FALLBACK = """
import json, sys, warnings
from pathlib import Path
from matplotlib import font_manager
import cchc.outputs.charts as charts

# A machine without fonts-liberation2: matplotlib knows no Liberation Serif 2.x.
charts.LIBERATION2 = Path(sys.argv[2])
font_manager.fontManager.ttflist[:] = [f for f in font_manager.fontManager.ttflist if "/liberation2/" not in f.fname]
c = charts.ChartData("letters", "stacked_bar", sys.argv[3], "", (sys.argv[3][:67], sys.argv[3][67:]),
                     (("Đúng hạn", (1.0, 2.0)),), "đơn vị")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    charts.render_chart(c, Path(sys.argv[1]))
regular = font_manager.findfont(font_manager.FontProperties(family="Liberation Serif"), fallback_to_default=False)
print(json.dumps({"warnings": [str(w.message) for w in caught], "regular": regular}))
"""


def test_without_liberation2_dejavu_serif_draws_the_letters_liberation_lacks(tmp_path):
    """On a machine with only Liberation 1.x (Debian's fonts-liberation), DejaVu Serif draws, letter by letter,
    the Vietnamese letters 1.x lacks: nothing is missing (run in a process of its own, whose fonts it changes)."""
    import json

    pdf = tmp_path / "letters.pdf"
    run = subprocess.run(
        [sys.executable, "-c", FALLBACK, str(pdf), str(tmp_path / "no-liberation2"), VIETNAMESE],
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(run.stdout.splitlines()[-1])
    assert [w for w in out["warnings"] if "Glyph" in w or "missing from font" in w] == []
    assert "/liberation2/" not in out["regular"]
    lacks = set(VIETNAMESE) - _cmap(out["regular"])
    embedded = _pdf_fonts(pdf)
    assert "LiberationSerif" in embedded
    if lacks:  # 1.07 lacks 92 of the 134
        assert "DejaVuSerif" in embedded, embedded


def _rows(fig) -> dict[str, list[str]]:
    """The numbers written on each bar of a bar chart, by category (texts placed at the bar's height)."""
    ax = fig.axes[0]
    rows = {round(y): label.get_text() for y, label in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)}
    out = {name: [] for name in rows.values()}
    for t in ax.texts:
        out[rows[round(t.get_position()[1])]].append(t.get_text())
    return out


def _legend(fig) -> list[str]:
    legends = [*fig.legends, *(a.get_legend() for a in fig.axes)]
    return [t.get_text() for lg in legends if lg is not None for t in lg.get_texts()]


def _check_stacked(c, fig) -> None:
    """Each number once: a bar of one segment shows its total only; otherwise the total and, for the segments
    that show a number, a number each; the legend names the series with something drawn, in their colours."""
    from collections import Counter

    from matplotlib.colors import to_rgba

    from cchc.common.vn import format_number
    from cchc.outputs.charts import COLOURS

    rows = _rows(fig)
    for i, category in enumerate(c.categories):
        parts = [v[i] for _, v in c.series if v[i]]
        total = format_number(sum(parts))
        if len(parts) <= 1:
            assert rows[category] == [total], (c.key, category, rows[category])
        else:
            written = Counter(rows[category])
            written[total] -= 1
            assert written[total] >= 0 and not written - Counter(format_number(v) for v in parts), (c.key, category)
    drawn = [name for name, values in c.series if any(values)]
    assert _legend(fig) == drawn
    colour = {name: to_rgba(COLOURS[k]) for k, (name, _) in enumerate(c.series)}
    bars = {b.get_label(): b.patches[0].get_facecolor() for b in fig.axes[0].containers}
    assert bars == {name: colour[name] for name in drawn}


def test_one_number_per_bar_and_a_legend_of_what_is_drawn():
    """Made-up counts: a district whose communes all reported on time, one with late reports too, one that
    sent nothing; nobody refused (that series stays in the data, for the annex, but is not drawn)."""
    from cchc.outputs.charts import DRAW, REPORT_STATES_VI, ChartData

    on_time, late, refused, missing = REPORT_STATES_VI
    c = ChartData(
        "completeness",
        "stacked_bar",
        "Tình hình báo cáo",
        "",
        ("Quận Hải An", "Huyện Cát Hải", "Huyện Tiên Lãng"),
        ((on_time, (8.0, 9.0, 0.0)), (late, (0.0, 3.0, 0.0)), (refused, (0.0, 0.0, 0.0)), (missing, (0.0, 0.0, 5.0))),
        "đơn vị",
    )
    fig = DRAW[c.kind](c)
    assert _rows(fig) == {"Quận Hải An": ["8"], "Huyện Cát Hải": ["9", "3", "12"], "Huyện Tiên Lãng": ["5"]}
    assert _legend(fig) == [on_time, late, missing]
    _check_stacked(c, fig)


def test_the_other_kinds_write_no_number_twice_and_no_empty_legend_entry():
    from matplotlib.text import Text

    from cchc.outputs.charts import DRAW, ChartData

    # PAKN with nothing carried over: the first bar is all new, its number written once (after it).
    funnel = ChartData(
        "feedback_funnel",
        "funnel",
        "PAKN",
        "",
        ("Tiếp nhận mới", "Kỳ trước chuyển sang", "Tổng số phải xử lý", "Đã giải quyết", "Trong hạn", "Quá hạn"),
        (("Số PAKN", (40.0, 0.0, 40.0, 30.0, 8.0, 2.0)),),
        "PAKN",
    )
    fig = DRAW["funnel"](funnel)
    assert _rows(fig)["Tổng số phải xử lý"] == ["40"]
    assert not [t for t in fig.findobj(Text) if "màu nâu" in t.get_text()]
    # Every service wholly online: one wedge, one legend entry.
    pie = ChartData(
        "online_services", "pie", "DVC", "", ("Toàn trình", "Một phần"), (("Số dịch vụ", (25.0, 0.0)),), "dịch vụ"
    )
    assert [t.split(":")[0] for t in _legend(DRAW["pie"](pie))] == ["Toàn trình"]
    # Nothing disbursed yet: the plan bars and their legend entry only.
    bullet = ChartData(
        "disbursement",
        "bullet",
        "Giải ngân",
        "",
        ("Kế hoạch Thủ tướng giao", "Kế hoạch thành phố giao"),
        (("Kế hoạch", (170.0, 200.0)), ("Đã giải ngân", (0.0, 0.0))),
        "tỷ đồng",
        3,
        ("0,00%", "0,00%"),
    )
    fig = DRAW["bullet"](bullet)
    assert _legend(fig) == ["Kế hoạch (tỷ đồng)"]
    assert _rows(fig)["Kế hoạch thành phố giao"] == ["200,000", "0,000 (đạt 0,00%)"]


def test_the_sample_charts_write_each_number_once(rendered):
    """The H1 sample: plan tasks keep an empty state in their data (for the annex) and do not draw it."""
    from cchc.outputs.charts import DRAW

    _, _, data = rendered
    charts = {c.key: c for c in data}
    assert any(not any(v) for _, v in charts["plan_tasks"].series)  # the case is there to check
    for c in data:
        fig = DRAW[c.kind](c)
        if c.kind == "stacked_bar":
            _check_stacked(c, fig)
        elif c.kind in ("funnel", "bullet"):
            for row, written in _rows(fig).items():
                assert len(written) == len(set(written)), (c.key, row, written)


def _consolidation(as_of: dt.date | None):
    from cchc.figures.consolidate import Consolidation, Figure

    values = {
        "fin.invest_disbursed_bn": "4048.546",
        "fin.invest_plan_pm_bn": "17019.198",
        "fin.invest_plan_city_bn": "19972.741",
        "fin.invest_disbursed_pct_pm": "23.79",
        "fin.invest_disbursed_pct_city": "20.27",
    }
    figures = {c: Figure(c, Decimal(v), 1, v, as_of=as_of) for c, v in values.items()}
    return Consolidation("2024-H1", dt.date(2024, 6, 15), figures, ["STC"], [])


def test_a_caption_dates_the_data_as_its_figures_do():
    """The investment figures stand at 31/5/2024: so does the caption; figures without a date of their own
    take the consolidation's (15/6/2024), written the report's way."""
    from cchc.outputs.charts import disbursement

    own = disbursement(_consolidation(dt.date(2024, 5, 31)))
    assert "(6 tháng đầu năm 2024, số liệu tính đến ngày 31/5/2024)" in own.caption_vi
    assert own.as_of == dt.date(2024, 5, 31)
    default = disbursement(_consolidation(None))
    assert "số liệu tính đến ngày 15/6/2024)" in default.caption_vi and default.as_of == dt.date(2024, 6, 15)
