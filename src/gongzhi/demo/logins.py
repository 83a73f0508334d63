"""The demo log-ins: one memorable user per role, all with the same password. Imported by the Makefile's
instructions, the tests and the seed command (which prints them as a table)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from gongzhi.accounts.choices import Role

DEMO_PASSWORD = "gongzhi-demo"
DEFAULT_BIND = "127.0.0.1:8000"  # the Makefile's and gunicorn.conf.py's default GONGZHI_BIND


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str  # a Role value
    where_description: str


DEMO_LOGINS: list[DemoLogin] = [
    DemoLogin("admin", Role.ADMIN, "系统管理员（全部数据）"),
    DemoLogin("operator", Role.SUBDISTRICT_OPERATOR, "道义街道网格化服务管理中心"),
    DemoLogin("fudong", Role.COMMUNITY_STAFF, "府东社区 · 府东社区居委会（社区书记）"),
    DemoLogin("dagan", Role.COMMUNITY_STAFF, "大干社区 · 大干社区居委会（社区书记；共管大干村居融合网格）"),
    DemoLogin("gridleader", Role.GRID_LEADER, "府东社区第1网格（网格长）"),
    DemoLogin("gridworker", Role.GRID_WORKER, "府东社区第1网格（专职网格员）"),
    DemoLogin("buildinghead", Role.BUILDING_HEAD, "府东小区1号楼（楼长）"),
    DemoLogin("mediator", Role.MEDIATOR, "道义街道 · 老娘舅调解队"),
    DemoLogin("police", Role.DEPARTMENT_HANDLER, "沈北新区公安分局道义派出所"),
    DemoLogin("property", Role.DEPARTMENT_HANDLER, "沈阳万和物业管理有限公司（府东小区物业）"),
    DemoLogin("fishery", Role.DEPARTMENT_HANDLER, "大干渔业经济合作社（大干村居融合网格）"),
    DemoLogin("cobuild", Role.CO_BUILDING_UNIT, "沈阳西大商业管理有限公司（共建单位）"),
    DemoLogin("resident", Role.RESIDENT, "居民（府东小区）"),
    DemoLogin("partymember", Role.RESIDENT, "府东社区 · 在职党员（已双报到，认领岗位）"),
]

DEMO_USERNAMES: tuple[str, ...] = tuple(login.username for login in DEMO_LOGINS)


def demo_url(bind: str | None = None) -> str:
    """The address the demo is served on: ``GONGZHI_BIND`` (gunicorn's ``host:port``), as a browser would open it.
    A wildcard host (0.0.0.0, ::) is opened as this machine (127.0.0.1) and said to listen everywhere."""
    bind = (bind if bind is not None else os.environ.get("GONGZHI_BIND", "")).strip() or DEFAULT_BIND
    bind = bind.split(",")[0].strip()  # gunicorn takes several addresses: the first
    if bind.startswith("unix:"):
        return bind
    host, _sep, port = bind.rpartition(":")
    if not _sep or not port.isdigit():
        host, port = bind, "8000"  # gunicorn's own default port
    host = host or "127.0.0.1"
    if host in ("0.0.0.0", "[::]", "::"):
        loopback = "[::1]" if host != "0.0.0.0" else "127.0.0.1"
        return f"http://{loopback}:{port}/ (listening on all addresses, {bind})"
    return f"http://{host}:{port}/"


def logins_table(bind: str | None = None) -> str:
    """The log-ins as a plain-text table, with the address (``GONGZHI_BIND``) and the password."""
    width = max(len(login.username) for login in DEMO_LOGINS)
    role_width = max(len(str(login.role)) for login in DEMO_LOGINS)
    lines = [
        f"Demo log-ins at {demo_url(bind)} — password for all: {DEMO_PASSWORD}",
        f"  {'username'.ljust(width)}  {'role'.ljust(role_width)}  where",
        f"  {'-' * width}  {'-' * role_width}  {'-' * 24}",
    ]
    for login in DEMO_LOGINS:
        lines.append(f"  {login.username.ljust(width)}  {str(login.role).ljust(role_width)}  {login.where_description}")
    return "\n".join(lines)
