"""The base maps the pages draw under the territory's own layers, from the settings (docs/maps.md).

* 天地图 Tianditu (``GONGZHI_TIANDITU_KEY``): CGCS2000, which is WGS-84 to within a metre — the stored coordinates
  are drawn on it as they are. Two base layers, vector and imagery, each with its annotation (label) layer.
* 高德 AMap (``GONGZHI_AMAP_TILES=1``): GCJ-02 tiles. The pages convert what they draw onto them
  (``static/gongzhi/basemap.js``, the same formula as :mod:`gongzhi.territory.coords`) and convert a point picked on
  them back to WGS-84.
* Any WGS-84 XYZ tile server of one's own (``GONGZHI_MAP_TILE_URL``).

With none configured (the demo, offline machines, tests) the list is empty and the maps show a "no base map
configured" note over the grids, buildings and cases, which they draw in any case.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from gongzhi.territory.coords import GCJ02, WGS84

TIANDITU = "https://t{s}.tianditu.gov.cn/DataServer?T=%(layer)s_w&x={x}&y={y}&l={z}&tk=%(key)s"
AMAP = "https://webst0{s}.is.autonavi.com/appmaptile?style=%(style)s&x={x}&y={y}&z={z}"
AMAP_ROADS = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"


def base_layers() -> list[dict[str, Any]]:
    """The configured base layers, first the default: each an id, a translated name, the coordinate system its
    tiles are in (``wgs84`` or ``gcj02``) and its tile layers (base first, then annotations)."""
    layers: list[dict[str, Any]] = []
    key = getattr(settings, "GONGZHI_TIANDITU_KEY", "")
    if key:
        for layer_id, base, labels, name in (
            ("tianditu-vec", "vec", "cva", _("Tianditu map")),
            ("tianditu-img", "img", "cia", _("Tianditu imagery")),
        ):
            layers.append(
                {
                    "id": layer_id,
                    "name": name,
                    "crs": WGS84,
                    "attribution": _("Tianditu"),
                    # The site sends no Referer to other origins (SECURE_REFERRER_POLICY); a 天地图 browser key is
                    # checked against the site's domain, so its tiles are asked for with the origin (not the path).
                    "tiles": [
                        {
                            "url": TIANDITU % {"layer": part, "key": key},
                            "subdomains": "01234567",
                            "maxZoom": 18,
                            "referrerPolicy": "strict-origin",
                        }
                        for part in (base, labels)
                    ],
                }
            )
    if getattr(settings, "GONGZHI_AMAP_TILES", False):
        layers.append(
            {
                "id": "amap-vec",
                "name": _("AMap map"),
                "crs": GCJ02,
                "attribution": _("AMap"),
                "tiles": [{"url": AMAP % {"style": 7}, "subdomains": "1234", "maxZoom": 18}],
            }
        )
        layers.append(
            {
                "id": "amap-img",
                "name": _("AMap imagery"),
                "crs": GCJ02,
                "attribution": _("AMap"),
                "tiles": [
                    {"url": AMAP % {"style": 6}, "subdomains": "1234", "maxZoom": 18},
                    {"url": AMAP_ROADS, "subdomains": "1234", "maxZoom": 18},
                ],
            }
        )
    custom = getattr(settings, "GONGZHI_MAP_TILE_URL", "")
    if custom:
        layers.append(
            {
                "id": "custom",
                "name": _("Base map"),
                "crs": WGS84,
                "attribution": "",
                "tiles": [{"url": custom, "subdomains": "abc", "maxZoom": 19}],
            }
        )
    return layers


def map_config() -> dict[str, Any]:
    """What ``basemap.js`` reads from the page: the base layers and the words it shows."""
    return {
        "layers": base_layers(),
        "strings": {
            "no_base_map": _("No base map configured"),
            "no_base_map_hint": _(
                "The grids, buildings and cases are drawn without streets. An administrator can configure a Tianditu "
                "key for the server."
            ),
            "buildings": _("Buildings"),
            "cases": _("Open cases"),
            "grids": _("Grids"),
            "pin_overdue": _("Overdue"),
            "pin_urgent": _("Urgent"),
            "pin_handling": _("Being handled"),
            "pin_waiting": _("Waiting"),
            "cases_truncated": _("Open cases: the %(shown)s most urgent of %(total)s are on the map."),
        },
    }
