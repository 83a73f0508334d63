"""``gongzhi triage train`` and ``gongzhi triage evaluate`` (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongzhi.triage import learn


class Command(BaseCommand):
    help = "Learned triage: train a model version (from closed cases or a CSV) or cross-validate the pipeline on a CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("train", "evaluate"):
            p = sub.add_parser(name)
            p.add_argument("--csv", help="history exported from another system (UTF-8, one ticket a row)")
            p.add_argument("--text-col", default="text", help="the column holding the ticket's text")
            p.add_argument("--label-col", default="body", help="the column naming the body that handled it")
            p.add_argument("--precision", type=float, default=0.95, help="precision the threshold must reach")
            if name == "evaluate":
                p.add_argument("--folds", type=int, default=5)
                p.add_argument("--json", action="store_true", help="print one JSON object")
            else:
                p.add_argument("--no-activate", action="store_true", help="store the version without using it")

    def _read(self, options: dict[str, Any]) -> tuple[list[str], list[str]]:
        path = Path(options["csv"])
        if not path.exists():
            raise CommandError(f"no such file: {path}")
        try:
            return learn.read_csv(path, options["text_col"], options["label_col"])
        except KeyError as exc:
            raise CommandError(f"no such column: {exc.args[0]}") from exc

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "evaluate":
            if not options["csv"]:
                from gongzhi.triage.services import case_history

                history = case_history()
                texts, labels, weights = history.tickets, history.bodies, history.weights
            else:
                texts, labels = self._read(options)
                weights = None
            result = learn.evaluate(texts, labels, folds=options["folds"], target=options["precision"], weights=weights)
            realised = result.pop("realised_precision")
            self.stderr.write(f"realised precision of the tickets decided alone: {realised}")
            if options["json"]:
                self.stdout.write(json.dumps(result, ensure_ascii=False))
            else:
                for key, value in result.items():
                    self.stdout.write(f"{key}: {value}")
            return
        from gongzhi.triage import services

        if options["csv"]:
            texts, labels = self._read(options)
            version = services.train(
                user=None,
                texts=texts,
                labels=labels,
                source=Path(options["csv"]).name,
                target=options["precision"],
                activate=not options["no_activate"],
            )
        else:
            version = services.train(user=None, target=options["precision"], activate=not options["no_activate"])
        self.stdout.write(
            f"version {version.pk}: {version.n} tickets, {version.classes} bodies, threshold {version.threshold:.3f}, "
            f"{version.train_seconds:.1f} s{' (active)' if version.is_active else ''}"
        )
