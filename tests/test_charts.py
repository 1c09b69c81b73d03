"""The charts of a period (cchc.outputs.charts): what they show comes from the warehouse and adds up to the
figures; the PNGs are sized for an A4 text column and drawn with a font that has every Vietnamese glyph.

The data tests run on SQLite and PostgreSQL: the H1 sample without two communes (one of Đồ Sơn, one of
An Dương, so the completeness chart has something to chase), and the first three weekly snapshots.
"""

from __future__ import annotations

import datetime as dt
import warnings
import zipfile

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
        assert not image.caption_vi.startswith("Biểu đồ") and "15/06/2024" in image.caption_vi
    captions = " ".join(i.caption_vi for i in images)
    for text in ("08/57", "138/204 (67,65%)", "4.048,546 tỷ đồng", "23,79%", "1.317 dịch vụ toàn trình"):
        assert text in captions


def test_chart_text_is_drawn_with_a_font_that_has_every_glyph(rendered):
    """DejaVu Sans is what the charts ask for and get; it has every character of every label."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from cchc.outputs.charts import FONT, TREND_SERIES

    images, caught, data = rendered
    assert not [w for w in caught if "Glyph" in w or "missing from font" in w], caught
    path = font_manager.findfont(font_manager.FontProperties(family=FONT), fallback_to_default=False)
    assert path.endswith("DejaVuSans.ttf")
    font = FT2Font(path)
    # Every string a chart draws (titles, categories, series, captions; the weekly trend's too).
    texts = [i.caption_vi for i in images] + [label for _, label in TREND_SERIES] + ["Kết quả lũy kế từ đầu năm"]
    for c in data:
        texts += [c.title_vi, *c.categories, *(n for n, _ in c.series)]
    chars = {ch for t in texts for ch in t if not ch.isspace()}
    assert {"ệ", "ễ", "ộ", "ư", "Đ", "ồ"} <= chars  # the test sees real Vietnamese
    missing = sorted(ch for ch in chars if font.get_char_index(ord(ch)) == 0)
    assert missing == []
