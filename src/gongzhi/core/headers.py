"""Security headers on every answer: a Content-Security-Policy and a Permissions-Policy.

The pages load nothing from another origin: HTMX, Leaflet and ECharts are served from our static files, and every
script is a file (no inline ``<script>``, no ``onclick=``, no ``javascript:`` URLs; the JSON blocks of
``json_script`` are data, not scripts, and are not affected). So ``script-src 'self'`` with no ``'unsafe-inline'``
and no ``'unsafe-eval'`` (htmx runs with ``allowEval: false``).

Styles: ``<style>`` elements are refused (``style-src-elem 'self'``: style sheets from files only), while ``style``
attributes stay allowed (``style-src 'self' 'unsafe-inline'``, which is what a browser without ``style-src-elem``
falls back to): progress bars carry their width in one, and Leaflet and ECharts position their elements with
inline styles. Images: ours, ``data:`` (Leaflet's and ECharts' small images) and ``blob:`` (a chart saved as a
picture), plus the base-map tile hosts of ``settings.GONGZHI_CSP_IMG_HOSTS`` when a tile layer is configured.

Permissions-Policy: the position and the camera for this site only (the report form and the visit form use them),
the microphone for nobody.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def content_security_policy() -> str:
    images = " ".join(["'self'", "data:", "blob:", *getattr(settings, "GONGZHI_CSP_IMG_HOSTS", [])])
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self' 'unsafe-inline'",
        "style-src-elem": "'self'",
        "img-src": images,
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


PERMISSIONS_POLICY = "geolocation=(self), camera=(self), microphone=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = content_security_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.csp)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
