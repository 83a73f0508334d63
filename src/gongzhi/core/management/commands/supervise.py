"""``gongzhi supervise "CMD …" ["CMD …" …]``: run gongzhi commands as child processes and start again any that exits.

``make demo``/``make serve`` run the background-task worker and the scheduler under it, so that a worker that dies
(whatever the cause) is back within seconds instead of leaving notifications, imports and reports queued until
someone notices. A child that exits is started again after a pause that doubles while it keeps dying quickly
(``--delay`` up to ``--max-delay``) and starts over once it ran for a minute. SIGINT/SIGTERM stop the children
(SIGTERM, then SIGKILL after ``--grace`` seconds) and then the supervisor.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import BaseCommand, CommandError

STABLE_AFTER = 60.0  # a child that ran this long before exiting is restarted after the shortest pause again


@dataclass
class Child:
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    delay: float = 0.0
    due: float = 0.0  # when to start it (again)
    restarts: int = field(default=0)


class Command(BaseCommand):
    help = "Run gongzhi commands (each one quoted argument) as child processes and restart any that exits."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("commands", nargs="+", help='each a gongzhi command line, e.g. "task_worker --batch"')
        parser.add_argument("--delay", type=float, default=2.0, help="pause before a restart (seconds)")
        parser.add_argument("--max-delay", type=float, default=60.0, help="longest pause before a restart")
        parser.add_argument("--grace", type=float, default=10.0, help="seconds a child has to stop on SIGTERM")
        parser.add_argument("--max-restarts", type=int, default=0, help="give up after this many (0: never)")

    def handle(self, *args: Any, **options: Any) -> None:
        children = []
        for line in options["commands"]:
            words = shlex.split(line)
            if not words:
                raise CommandError("An empty command.")
            children.append(Child(argv=[sys.executable, "-m", "gongzhi.manage", *words]))
        self.stopping = False

        def stop(signum: int, frame: Any) -> None:
            self.stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            self.supervise(children, options)
        finally:
            self.stop_all(children, options["grace"])

    def supervise(self, children: list[Child], options: dict[str, Any]) -> None:
        while not self.stopping:
            now = time.monotonic()
            for child in children:
                if self.stopping:
                    return
                if child.process is None:
                    if now >= child.due:
                        child.process = subprocess.Popen(child.argv)
                        child.started = now
                    continue
                code = child.process.poll()
                if code is None:
                    continue
                child.process = None
                if now - child.started >= STABLE_AFTER:
                    child.delay = options["delay"]
                else:
                    child.delay = min(options["max_delay"], max(options["delay"], child.delay * 2))
                child.due = now + child.delay
                child.restarts += 1
                self.stderr.write(
                    f"supervise: {' '.join(child.argv[3:])} exited ({code}); starting it again in {child.delay:.0f} s"
                )
                if options["max_restarts"] and child.restarts > options["max_restarts"]:
                    raise CommandError(f"{' '.join(child.argv[3:])} exited {child.restarts} times: giving up.")
            time.sleep(0.2)

    def stop_all(self, children: list[Child], grace: float) -> None:
        running = [c.process for c in children if c.process is not None and c.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + grace
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
