"""``{% base_map_config %}``: the base maps configured (``territory.basemaps``) as a JSON block for basemap.js."""

from __future__ import annotations

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString

from gongzhi.territory.basemaps import map_config

register = template.Library()


@register.simple_tag
def base_map_config() -> SafeString:
    return json_script(map_config(), "gz-basemaps")
