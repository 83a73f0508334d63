"""Every role's main pages in a real browser, on a desk (1280 px) and a small phone (360 px): nothing scrolls
sideways, and no English word shows in the Chinese UI (issue 16).

The pages of a role are its home page, every item of its menu (so the check follows the menu as it changes), one of
its cases, and the pages each role is meant to reach (the report form, the map). A page is checked once loaded and
settled; all the findings of a role are listed together when it fails.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.tests.factories import new_case
from gongzhi.territory.models import Body
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 360)
# Words that may show in Latin letters: the brand, abbreviations, file types, units, map credits, the language
# switch. A token is checked only when it is letters alone: codes like 7KQ2-M9XD or GD20260301 are not words.
ALLOWED = {
    "Gongzhi", "EN", "English", "KPI", "KPIs", "XLSX", "CSV", "ID", "API", "GPS", "PDF", "JSON", "SMS", "QR", "OK",
    "GB", "WGS", "GCJ", "CGCS", "km", "m", "kg", "h", "min", "Leaflet", "OpenStreetMap", "ECharts", "AMap", "OSM",
    "A", "B", "C", "N", "T", "HTMX", "Excel", "WPS", "MB", "KB", "JPEG", "JPG", "PNG", "HEIC", "WebP", "GIF",
}  # fmt: skip
LATIN_ONLY = re.compile(r"^[A-Za-z]{2,}$")
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@:/+-]*")

MEASURE = """(width) => {
  const root = document.scrollingElement || document.documentElement;
  const wide = [];
  if (root.scrollWidth > width) {
    for (const el of document.querySelectorAll('body *')) {
      const box = el.getBoundingClientRect();
      if (box.width && box.right > width + 1 && getComputedStyle(el).position !== 'fixed') {
        let scroller = el.parentElement, clipped = false;
        while (scroller && scroller !== document.body) {
          const o = getComputedStyle(scroller).overflowX;
          if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') { clipped = true; break; }
          scroller = scroller.parentElement;
        }
        if (!clipped) wide.push((el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + el.className) + ' ' +
                                Math.round(box.right) + 'px');
      }
      if (wide.length > 4) break;
    }
  }
  return {scroll: root.scrollWidth, width: Math.min(width, window.innerWidth), wide: wide};
}"""

# Menu items off-screen (a phone): the menu must say so — an arrow at the edge where more wait.
MENU_HINT = """() => {
  const nav = document.querySelector('.mainnav');
  if (!nav) return {hidden: false, arrow: false};
  const box = nav.getBoundingClientRect();
  const hidden = [...nav.querySelectorAll('a')].some(a => {
    const r = a.getBoundingClientRect();
    return r.right > box.right + 1 || r.left < box.left - 1;
  });
  const end = nav.querySelector('.nav-more-end');
  const arrow = !!end && getComputedStyle(end).display !== 'none' && end.getBoundingClientRect().right <= box.right + 1;
  return {hidden: hidden, arrow: arrow, width: nav.scrollWidth, shown: nav.clientWidth};
}"""


def english_words(text: str, allowed: set[str]) -> list[str]:
    words = set()
    for token in TOKEN.findall(text):
        if token in allowed:
            continue
        for part in re.split(r"[._@:/+-]", token):
            if LATIN_ONLY.match(part) and part not in allowed and part.lower() not in allowed:
                words.add(part)
    return sorted(words)


def test_english_words_finds_words_not_codes() -> None:
    text = "案件 C2026-000123 追踪码 7KQ2-M9XD 12345 导入 XLSX Deadline missed 王五 grid_worker_3 5 km"
    assert english_words(text, ALLOWED | {"grid_worker_3"}) == ["Deadline", "missed"]


def _people(tree):  # type: ignore[no-untyped-def]
    community, grid, building = tree.communities[0], tree.grids[0], tree.buildings[0]
    mediation = Body.objects.create(name="老娘舅调解队", kind="social_organisation")
    unit = Body.objects.create(name="共建单位银行", kind="co_building_unit")
    return {
        "admin": user_with_role(Role.ADMIN, display_name="管理员"),
        "operator": user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office, display_name="街道中心"),
        "community_staff": user_with_role(Role.COMMUNITY_STAFF, node=community, body=tree.committees[0], display_name="社区书记"),
        "grid_leader": user_with_role(Role.GRID_LEADER, node=grid, display_name="网格长"),
        "grid_worker": user_with_role(Role.GRID_WORKER, node=grid, display_name="网格员"),
        "building_head": user_with_role(Role.BUILDING_HEAD, node=building, display_name="楼长"),
        "mediator": user_with_role(Role.MEDIATOR, node=community, body=mediation, display_name="调解员"),
        "department_handler": user_with_role(Role.DEPARTMENT_HANDLER, body=tree.department, display_name="派出所民警"),
        "co_building_unit": user_with_role(Role.CO_BUILDING_UNIT, body=unit, node=community, display_name="共建联络员"),
        "resident": user_with_role(Role.RESIDENT, node=tree.households[0], display_name="居民王"),
    }  # fmt: skip


# The pages each role is meant to reach besides its menu (paths; "{case}" is a case of theirs).
EXTRA = {
    "admin": ["/cases/{case}/", "/cases/new/", "/territory/", "/kpis/", "/kpis/me/", "/cases/hotline/"],
    "operator": ["/cases/{case}/", "/cases/new/", "/territory/", "/kpis/", "/cases/hotline/", "/registry/import/"],
    "community_staff": ["/cases/{case}/", "/cases/new/", "/territory/", "/kpis/"],
    "grid_leader": ["/cases/{case}/", "/cases/new/", "/territory/", "/kpis/me/"],
    "grid_worker": ["/cases/{case}/", "/cases/new/", "/territory/", "/kpis/me/"],
    "building_head": ["/cases/{case}/", "/cases/new/"],
    "mediator": ["/cases/{case}/"],
    "department_handler": ["/cases/{case}/"],
    "co_building_unit": [],
    "resident": ["/cases/new/"],
}


@pytest.mark.parametrize("role", list(EXTRA))
def test_a_roles_main_pages_fit_a_phone_and_speak_chinese(  # type: ignore[no-untyped-def]
    role, live_server, make_page, login, results_dir
):
    tree = build_tree()
    people = _people(tree)
    user = people[role]
    admin = people["admin"]
    case = new_case(people["grid_worker"], tree.buildings[0], title="楼道堆放杂物", description="三楼楼道堆满纸箱")
    if role in ("mediator", "department_handler"):
        from gongzhi.cases.tests.factories import walk

        body = Body.objects.get(name="老娘舅调解队") if role == "mediator" else tree.department
        case = walk(admin, case, "dispatched", handler_body=body)

    allowed = ALLOWED | {user.username, str(user)}
    findings: list[str] = []
    for width in WIDTHS:
        page = make_page(width=width, height=800)
        login(page, user)
        menu = page.eval_on_selector_all(".mainnav a[href]", "links => links.map(a => a.getAttribute('href'))")
        hint = page.evaluate(MENU_HINT)
        if hint["hidden"] and not hint["arrow"]:
            findings.append(f"{width}px: menu items off-screen without a hint ({hint})")
        paths = ["/", *[p for p in menu if p.startswith("/") and not p.startswith("/admin")]]
        paths += [p.format(case=case.pk) for p in EXTRA[role]]
        seen: set[str] = set()
        for path in paths:
            path = urlsplit(path).path
            if path in seen:
                continue
            seen.add(path)
            response = page.goto(f"{live_server.url}{path}")
            where = f"{width}px {path}"
            if response is None or response.status >= 400:
                findings.append(f"{where}: status {response.status if response else '—'}")
                continue
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(150)
            size = page.evaluate(MEASURE, width)  # a phone widens its layout viewport to fit: the screen's width counts
            if size["scroll"] > size["width"]:
                findings.append(f"{where}: scrolls sideways ({size['scroll']} > {size['width']} px: {size['wide']})")
            words = english_words(page.inner_text("body"), allowed)
            if words:
                findings.append(f"{where}: English {words[:15]}")
            if width == 360:
                page.screenshot(
                    path=str(results_dir / f"roles-{role}-{path.strip('/').replace('/', '_') or 'home'}.png")
                )
    assert not findings, f"{role}:\n" + "\n".join(findings)


def test_the_big_screen_writes_chinese_in_a_cjk_font_with_whole_labels(  # type: ignore[no-untyped-def]
    live_server, make_page, login
):
    from gongzhi.kpis import services as kpis

    tree = build_tree()
    admin = user_with_role(Role.ADMIN)
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    for i in range(3):
        new_case(admin, tree.buildings[i], title=f"积水{i}")
    kpis.refresh_rollup(full=True)

    page = make_page(width=1920, height=1080)
    login(page, operator)
    page.goto(f"{live_server.url}/kpis/screen/")
    page.wait_for_selector("#chart-category canvas", state="attached")
    body_font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in body_font and "Microsoft YaHei" in body_font, body_font
    option = page.evaluate(
        """() => {
          const o = echarts.getInstanceByDom(document.getElementById('chart-category')).getOption();
          return {font: o.textStyle && (o.textStyle[0] || o.textStyle).fontFamily, label: o.yAxis[0].axisLabel};
        }"""
    )
    assert "Noto Sans CJK SC" in option["font"], option
    assert option["label"].get("overflow") != "truncate", option  # a long category name wraps, never cut off
