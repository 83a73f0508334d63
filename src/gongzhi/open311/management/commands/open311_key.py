"""``manage.py open311_key create --name 市民通 --contact dev@example.com --subdistrict 210113001 --rate 60``:
issue an Open311 key (printed once; only its hash is kept) — docs/open311.md."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongzhi.open311 import services
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Node


class Command(BaseCommand):
    help = "Issue an Open311 api_key to a client app (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("--name", required=True)
        create.add_argument("--contact", default="")
        create.add_argument("--subdistrict", default="", help="its code; needed when there are several")
        create.add_argument("--rate", type=int, default=60, help="requests per minute")

    def handle(self, *args: Any, **options: Any) -> None:
        subdistricts = Node.objects.filter(kind=NodeKind.SUBDISTRICT)
        if options["subdistrict"]:
            subdistricts = subdistricts.filter(code=options["subdistrict"])
        found = list(subdistricts[:2])
        if len(found) != 1:
            raise CommandError("Name the subdistrict (--subdistrict CODE): none or several match.")
        if options["rate"] < 1:
            raise CommandError("--rate is at least 1.")
        new = services.create_key(
            actor=None,
            name=options["name"],
            subdistrict=found[0],
            contact=options["contact"],
            rate_limit=options["rate"],
        )
        self.stdout.write(f"{new.key.name}: {new.secret}")
