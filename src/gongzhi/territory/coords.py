"""GCJ-02 ⇄ WGS-84: the one conversion between China's obfuscated map datum and the GPS one.

Everything Gongzhi stores is WGS-84 (= CGCS2000 to well within a metre; see docs/maps.md). GCJ-02 ("Mars
coordinates") is what 高德/AMap, Tencent and most Chinese phone map SDKs report and draw: a WGS-84 point shifted
by a smooth, published-by-reverse-engineering offset (up to ~700 m) computed on the Krasovsky 1940 ellipsoid. Points
outside mainland China (a rough box, as the SDKs use) are not shifted.

``wgs84_to_gcj02`` is the standard forward formula; ``gcj02_to_wgs84`` inverts it by fixed-point iteration (the
offset varies slowly, so each step cuts the error by ~1000×; two or three steps reach millimetres).
The map pages do the same forward conversion in JavaScript (``static/gongzhi/basemap.js``).
"""

from __future__ import annotations

import math

from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import ErrorDetail, ValidationFailed

WGS84 = "wgs84"
GCJ02 = "gcj02"
SYSTEMS = (WGS84, GCJ02)

_A = 6378245.0  # Krasovsky 1940 semi-major axis
_EE = 0.00669342162296594323  # its first eccentricity squared


def out_of_china(lat: float, lng: float) -> bool:
    """Outside the box where GCJ-02 applies (the conventional bounds; Taiwan, Hong Kong and Macao keep WGS-84 in
    most SDKs but fall inside the box — as in every other implementation, they are shifted)."""
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _offset(lat: float, lng: float) -> tuple[float, float]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (dlat, dlng)."""
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlng


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """A WGS-84 point as GCJ-02 (lat, lng); unchanged outside China."""
    if out_of_china(lat, lng):
        return lat, lng
    dlat, dlng = _offset(lat, lng)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float, *, tolerance_deg: float = 1e-9) -> tuple[float, float]:
    """A GCJ-02 point as WGS-84 (lat, lng): the WGS-84 point whose forward conversion is ``(lat, lng)``, found by
    iteration (to ~0.1 mm; the result's round trip is well under the 0.5 m the tests ask); unchanged outside China."""
    if out_of_china(lat, lng):
        return lat, lng
    wlat, wlng = lat, lng
    for _step in range(10):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        dlat, dlng = glat - lat, glng - lng
        wlat, wlng = wlat - dlat, wlng - dlng
        if abs(dlat) < tolerance_deg and abs(dlng) < tolerance_deg:
            break
    return wlat, wlng


def to_wgs84(lat: float, lng: float, system: str) -> tuple[float, float]:
    """A point given in ``system`` (``wgs84`` or ``gcj02``) as WGS-84, the system everything is stored in."""
    if system == GCJ02:
        return gcj02_to_wgs84(lat, lng)
    return lat, lng


def parse_bbox(bbox: str) -> tuple[float, float, float, float] | None:
    """``south,west,north,east`` in WGS-84 degrees (Leaflet's ``getBounds().toBBoxString()`` is west,south,east,north:
    the pages send this order explicitly)."""
    if not bbox.strip():
        return None
    try:
        south, west, north, east = (float(part) for part in bbox.split(","))
    except ValueError:
        raise ValidationFailed(
            _("The box is not valid."), [ErrorDetail(field="bbox", message=_("south,west,north,east in degrees"))]
        ) from None
    return south, west, north, east


def parse_crs(crs: str) -> str:
    value = (crs or WGS84).strip().lower().replace("-", "")
    if value not in SYSTEMS:
        raise ValidationFailed(_("Unknown coordinate system."), [ErrorDetail(field="crs", message=_("wgs84 or gcj02"))])
    return value
