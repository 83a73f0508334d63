"""The demo's Open311 client key (docs/open311.md): a fixed, published key for the first demo subdistrict, so a
GeoReport v2 client can try the demo at once. Only its hash is stored, like any key."""

from __future__ import annotations

from typing import Any

from gongzhi.demo import names
from gongzhi.demo.context import Out
from gongzhi.open311 import services
from gongzhi.open311.models import ApiKey, Request
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Node

DEMO_KEY = "gongzhi-demo-open311"
DEMO_CLIENT = "演示客户端 (demo client)"


def ensure_key(out: Out) -> bool:
    """The demo key for the first copy, created if missing. True when it exists now."""
    if ApiKey.objects.filter(key_hash=ApiKey.hash(DEMO_KEY)).exists():
        return True
    subdistrict = Node.objects.filter(kind=NodeKind.SUBDISTRICT, code=names.street_code(0)).first()
    if subdistrict is None:
        return False
    services.create_key(
        actor=None,
        name=DEMO_CLIENT,
        subdistrict=subdistrict,
        contact="demo@example.com",
        rate_limit=120,
        secret=DEMO_KEY,
    )
    out(f"Open311 demo key for {subdistrict.name}")
    return True


def line() -> str:
    return f"Open311 (GeoReport v2) at /open311/v2/ — demo api_key: {DEMO_KEY}"


def reset_open311(code: str, bodies: Any, out: Out) -> int:
    """The keys of a demo subdistrict and the links of their requests (the cases go with the cases' step)."""
    keys = ApiKey.objects.filter(subdistrict__code=code)
    made, _ = Request.objects.filter(api_key__in=keys).delete()
    deleted, _ = keys.delete()
    return made + deleted
