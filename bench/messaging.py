"""The messaging figures of ``make bench`` (issue 17), step ``messaging`` of ``bench.run``. Each is measured as a ratio
to the same work without the messaging (the 2-core machine is shared: absolute times drift, ratios much less):

* ``notice_fanout``: a notice to every household of the demo subdistrict (``notices.services.deliver_notice`` as the
  ``operator``), each household's contact told through messaging (an SMS or an inbox message each), through the
  commit and the queueing of the sends; baseline: the same notice with the contacts not told;
* ``dispatch_burst``: 1,000 cases dispatched by the desk (``cases.services.dispatch_many``, 100 at a time, the
  batch dispatch's limit), each dispatch telling the property company's handlers; baseline: the same without
  ``cases.notify.send``;
* ``intake_notify_p99``: case intake through HTTP (``POST /api/v1/cases`` as the ``gridworker``) with the
  notifications on and off, two gunicorn servers of the same size, the load alternating between them in short
  rounds; target: p99 on within 10 % of p99 off;
* ``delivery_rate``: deliveries per second sent by ONE task worker process (django-tasks-db's ``db_worker``) to a
  local SMTP server (aiosmtpd) and a local HTTP server answering as Aliyun SMS does, from ``sent_at`` of the first
  to the last delivery (the worker's start-up left out).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.run import PASSWORD, ROOT, Results, Server, _free_port, _user, ensure_people, load, ms, request, say

NOTIFY_ENV = "GONGZHI_BENCH_NOTIFY"  # "off": bench.wsgi serves intake without cases.notify.send


class _NotifyOff:
    """``cases.notify.send`` (or another hook) replaced by a no-op for the baseline, restored after."""

    def __init__(self, module: Any, name: str) -> None:
        self.module, self.name = module, name

    def __enter__(self) -> None:
        self.saved = getattr(self.module, self.name)
        setattr(self.module, self.name, lambda *a, **k: None)

    def __exit__(self, *exc: object) -> None:
        setattr(self.module, self.name, self.saved)


def _queued_tasks() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.count()


# --- (a) a notice to every household contact -------------------------------------------------------------------------


def bench_notice(args: argparse.Namespace, res: Results) -> None:
    from django.db import transaction

    from gongzhi.messaging.models import Delivery, Message
    from gongzhi.notices import services as notices
    from gongzhi.territory.choices import NodeKind
    from gongzhi.territory.models import Node

    people = ensure_people(args.people, seed=args.seed)
    operator = _user("operator")
    subdistrict = Node.objects.filter(kind=NodeKind.SUBDISTRICT).order_by("code").first()
    assert subdistrict is not None
    households = Node.objects.filter(kind=NodeKind.HOUSEHOLD, code__startswith=subdistrict.code).count()

    def send(title: str) -> tuple[float, int]:
        tasks_before = _queued_tasks()
        t0 = time.perf_counter()
        with transaction.atomic():  # the request's transaction: the sends are queued on its commit
            notices.deliver_notice(
                actor=operator, title=title, body=f"{title}：请各户相互转告。", area_id=subdistrict.pk
            )
        return time.perf_counter() - t0, _queued_tasks() - tasks_before

    stamp = time.strftime("%H%M%S")
    # Off, on, on, off: the machine's load drifts; each mode's mean over both of its places in the order.
    times: dict[str, list[float]] = {"on": [], "off": []}
    deliveries = messages = queued = 0
    for i, mode in enumerate(("off", "on", "on", "off")):
        title = f"停水通知{i} {stamp}"
        if mode == "off":
            with _NotifyOff(notices, "_tell_contacts"):
                took, _ = send(title)
        else:
            deliveries_before, messages_before = Delivery.objects.count(), Message.objects.count()
            took, queued = send(title)
            deliveries = Delivery.objects.count() - deliveries_before
            messages = Message.objects.count() - messages_before
        times[mode].append(took)
    with_s, base_s = sum(times["on"]) / 2, sum(times["off"]) / 2
    res.add(
        "notice_fanout",
        value=with_s,
        unit="s",
        baseline=base_s,
        baseline_name="the same notice to the same households, the contacts not told (the notice's own rows only)",
        target="info: time to enqueue, as a ratio to the notice without messaging",
        passed=None,
        households=households,
        sms_and_email_deliveries=deliveries,
        inbox_messages=messages,
        tasks_queued=queued,
        per_1000_contacts_ms=ms(with_s / max(1, deliveries + messages) * 1000),
        on_s=[round(t, 2) for t in times["on"]],
        off_s=[round(t, 2) for t in times["off"]],
        people=people,
        note="notices.services.deliver_notice to the whole subdistrict as the operator (4 notices: without, with, "
        "with, without messaging; each mode's mean), in one transaction, through "
        "its commit: one NoticeDelivery per household, each household's contact (first active resident with a "
        "phone) told once through messaging.notify (an SMS delivery, or an inbox message for an account), the "
        "deliveries queued on commit as tasks of 200",
    )


# --- (b) a dispatch burst of 1,000 cases ---------------------------------------------------------------------------


def _new_cases(n: int, tag: str) -> list[int]:
    """``n`` reported cases in the gridworker's grid (taken in without telling anyone: setup, not measured)."""
    from gongzhi.cases import intake, notify
    from gongzhi.cases.models import Category
    from gongzhi.territory import selectors as territory
    from gongzhi.territory.models import Node

    worker = _user("gridworker")
    grid = next(n for n in territory.scope_roots(user=worker) if n.kind == "grid")
    building = Node.objects.filter(parent=grid).order_by("code").first() or grid
    category = Category.objects.filter(is_active=True, parent__isnull=False).order_by("pk").first()
    assert category is not None
    ids = []
    with _NotifyOff(notify, "send_after_commit"):
        for i in range(n):
            case = intake.report_case(
                actor=worker,
                channel="patrol",
                title=f"楼道堆物 {tag} {i}",
                category_id=category.pk,
                node_id=building.pk,
            )
            ids.append(case.pk)
    return ids


def bench_dispatch(args: argparse.Namespace, res: Results) -> None:
    from gongzhi.accounts.models import RoleAssignment
    from gongzhi.cases import notify
    from gongzhi.cases import services as cases
    from gongzhi.messaging.models import Delivery, Message

    n = args.dispatch_cases
    desk = _user("fudong")
    company = RoleAssignment.objects.filter(user__username="property", body__isnull=False).values_list(
        "body_id", flat=True
    )[0]
    say(f"taking in {2 * n} cases to dispatch")
    on_ids, off_ids = _new_cases(n, "on"), _new_cases(n, "off")

    step = cases.MAX_BATCH_DISPATCH
    took = {"on": 0.0, "off": 0.0}
    deliveries_before, messages_before, tasks_before = Delivery.objects.count(), Message.objects.count(), 0
    queued = 0
    # Batch by batch, the two modes alternating (the machine's load drifts): each mode's total over its batches.
    for start in range(0, n, step):
        for mode in ("on", "off") if (start // step) % 2 == 0 else ("off", "on"):
            batch = (on_ids if mode == "on" else off_ids)[start : start + step]
            tasks_before = _queued_tasks()
            t0 = time.perf_counter()
            if mode == "on":
                cases.dispatch_many(actor=desk, case_ids=batch, handler_body_id=company, note="请处理")
            else:
                with _NotifyOff(notify, "send"):
                    cases.dispatch_many(actor=desk, case_ids=batch, handler_body_id=company, note="请处理")
            took[mode] += time.perf_counter() - t0
            if mode == "on":
                queued += _queued_tasks() - tasks_before
    with_s, base_s = took["on"], took["off"]
    res.add(
        "dispatch_burst",
        value=with_s,
        unit="s",
        baseline=base_s,
        baseline_name=f"the same {n} dispatches without cases.notify.send",
        target="info: time to enqueue, as a ratio to the dispatches without messaging",
        passed=None,
        cases=n,
        per_case_ms=ms(with_s / n),
        baseline_per_case_ms=ms(base_s / n),
        inbox_messages=Message.objects.count() - messages_before,
        deliveries=Delivery.objects.count() - deliveries_before,
        tasks_queued=queued,
        note=f"cases.services.dispatch_many as the desk (fudong), {cases.MAX_BATCH_DISPATCH} cases a call (the "
        "batches with and without messaging alternating), to the "
        "property company: each dispatch's plan (cases.notify) tells its handlers (inbox + SMS/e-mail per their "
        "preferences), the sends queued on commit",
    )


# --- (c) intake p99 with notifications on and off ------------------------------------------------------------------


def bench_intake(args: argparse.Namespace, res: Results) -> None:
    import random

    import shapely
    from shapely.geometry import shape

    from gongzhi.cases.models import Category
    from gongzhi.territory import selectors as territory

    worker_user = _user("gridworker")
    grid = next(n for n in territory.scope_roots(user=worker_user) if n.kind == "grid")
    poly = shape(grid.boundary)
    minx, miny, maxx, maxy = poly.bounds
    prng = random.Random(7)
    points: list[tuple[float, float]] = []
    while len(points) < 300:
        x, y = prng.uniform(minx, maxx), prng.uniform(miny, maxy)
        if poly.contains(shapely.Point(x, y)):
            points.append((y, x))
    categories = list(Category.objects.filter(is_active=True, parent__isnull=False).values_list("pk", flat=True))

    def create(rng: random.Random) -> tuple[str, str, Any]:
        lat, lng = rng.choice(points)
        return (
            "POST",
            "/api/v1/cases",
            {
                "channel": "patrol",
                "title": "楼道堆物 bench",
                "category_id": rng.choice(categories),
                "description": "巡查发现，楼道内堆放杂物。",
                "lat": lat,
                "lng": lng,
            },
        )

    servers: dict[str, Server] = {}
    try:
        for mode in ("on", "off"):
            os.environ[NOTIFY_ENV] = mode
            try:
                servers[mode] = Server(args.workers)
            finally:
                os.environ.pop(NOTIFY_ENV, None)
        tokens = {}
        for mode, server in servers.items():
            server.wait_ready()
            status, body = request(
                server.port, "POST", "/api/v1/auth/token", {"username": "gridworker", "password": PASSWORD}
            )
            if status != 200:
                raise RuntimeError(f"token: {status} {body[:300]!r}")
            tokens[mode] = json.loads(body)["token"]
            load(
                server.port, create, clients=args.clients, duration=5, max_requests=40, token=tokens[mode], expect=201
            )  # warm-up
        rounds = max(2, args.intake_rounds)
        per = args.duration / rounds
        latencies: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
        for i in range(rounds):
            for mode in ("on", "off") if i % 2 == 0 else ("off", "on"):
                latencies[mode].append(
                    load(
                        servers[mode].port,
                        create,
                        clients=args.clients,
                        duration=per,
                        max_requests=args.max_requests // rounds,
                        token=tokens[mode],
                        expect=201,
                    )
                )
    finally:
        for server in servers.values():
            server.stop()

    def p99(runs: list[dict[str, Any]]) -> float:
        # Each round's p99, the median of the rounds: one round disturbed by the shared machine does not decide it.
        values = sorted(r["p99_ms"] for r in runs)
        return float(values[len(values) // 2])

    on, off = p99(latencies["on"]), p99(latencies["off"])
    res.add(
        "intake_notify_p99",
        value=on,
        unit="ms (p99)",
        baseline=off,
        baseline_name="the same intake with the notifications off (cases.notify.send a no-op), same run",
        target="p99 with notifications within 10 % of without (ratio <= 1.10)",
        passed=on <= off * 1.10,
        rounds=rounds,
        p99_on_per_round=[r["p99_ms"] for r in latencies["on"]],
        p99_off_per_round=[r["p99_ms"] for r in latencies["off"]],
        p50_on_ms=sorted(r["p50_ms"] for r in latencies["on"])[rounds // 2],
        p50_off_ms=sorted(r["p50_ms"] for r in latencies["off"])[rounds // 2],
        per_s_on=round(sum(r["ok"] for r in latencies["on"]) / sum(r["seconds"] for r in latencies["on"]), 1),
        per_s_off=round(sum(r["ok"] for r in latencies["off"]) / sum(r["seconds"] for r in latencies["off"]), 1),
        errors=sum(r["errors"] for r in latencies["on"] + latencies["off"]),
        clients=args.clients,
        workers=args.workers,
        note="POST /api/v1/cases as the gridworker: with the notifications on, the desk is told (inbox messages in "
        "the request's transaction, the SMS/e-mail sends queued after its commit); two gunicorn servers, the load "
        "alternating between them round by round; value and baseline are the median of the rounds' p99",
    )


# --- (d) deliveries per second, one worker, local SMTP and SMS servers ------------------------------------------------


class _Sms(BaseHTTPRequestHandler):
    """Answers every SendSms as Aliyun does when it accepts it."""

    count = 0

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        _Sms.count += 1
        data = json.dumps({"Code": "OK", "Message": "OK", "BizId": f"bench^{_Sms.count}", "RequestId": "r"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Mailbox:
    count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        _Mailbox.count += 1
        return "250 Message accepted for delivery"


def bench_delivery(args: argparse.Namespace, res: Results) -> None:
    from aiosmtpd.controller import Controller
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.db.models import Max, Min
    from django_tasks_db.models import DBTaskResult

    from gongzhi.accounts.models import User
    from gongzhi.messaging import services as messaging
    from gongzhi.messaging.choices import DeliveryState
    from gongzhi.messaging.models import Delivery, Preference

    n = args.deliveries
    DBTaskResult.objects.all().delete()  # only this phase's tasks in the queue (a throw-away database)
    stamp = time.strftime("%H%M%S")
    password = make_password(None)
    users = User.objects.bulk_create(
        User(username=f"bench-mail-{stamp}-{i}", email=f"bench{i}@example.org", password=password)
        for i in range(n // 2)
    )
    Preference.objects.bulk_create(Preference(user=u, sms=False, email=True) for u in users)
    recipients = [messaging.Recipient(u.pk) for u in users]
    recipients += [messaging.Recipient(None, phone=f"139{i:08d}") for i in range(n - n // 2)]
    with transaction.atomic():
        sent = messaging.notify(
            actor=None,
            recipients=recipients,
            kind="bench",
            text="测试消息 %(n)s",
            params={"n": stamp},
            link="/cases/",
            urgency="A",
            dedupe=f"bench:{stamp}",
        )
    ids = sent.deliveries

    mailbox = _Mailbox()
    smtp_port = _free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    sms = ThreadingHTTPServer(("127.0.0.1", 0), _Sms)
    sms.daemon_threads = True
    threading.Thread(target=sms.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    env = dict(os.environ)
    env.update(
        GONGZHI_EMAIL_CHANNEL="gongzhi.messaging.channels.email.EmailChannel",
        GONGZHI_SMS_CHANNEL="gongzhi.messaging.channels.sms.AliyunSmsChannel",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        ALIYUN_SMS_ACCESS_KEY_ID="bench",
        ALIYUN_SMS_ACCESS_KEY_SECRET="bench",
        ALIYUN_SMS_SIGN_NAME="共治",
        ALIYUN_SMS_ENDPOINT=f"http://127.0.0.1:{sms.server_address[1]}/",
        PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{env.get('PYTHONPATH', '')}",
    )
    t0 = time.perf_counter()
    try:
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "src/gongzhi/manage.py"),
                "db_worker",
                "--batch",
                "--no-startup-delay",
                "--no-reload",
                "--queue-name",
                "*",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=max(600, n),
        )
    finally:
        wall = time.perf_counter() - t0
        smtp.stop()
        sms.shutdown()
        sms.server_close()
    done = Delivery.objects.filter(pk__in=ids)
    states = {s: done.filter(state=s).count() for s in DeliveryState.values}
    span = done.filter(state=DeliveryState.SENT).aggregate(first=Min("sent_at"), last=Max("sent_at"))
    seconds = (span["last"] - span["first"]).total_seconds() if span["first"] else 0.0
    rate = (states[DeliveryState.SENT] - 1) / seconds if seconds > 0 else 0.0
    res.add(
        "delivery_rate",
        value=rate,
        unit="deliveries/s",
        target="info: one worker process, local SMTP (aiosmtpd) and local HTTP SMS server",
        passed=None,
        deliveries=len(ids),
        states=states,
        smtp_received=_Mailbox.count,
        sms_received=_Sms.count,
        sending_s=round(seconds, 2),
        worker_wall_s=round(wall, 2),
        note="messaging.notify to half accounts with e-mail only and half phones without account (urgency A: no "
        "quiet hours), then ONE `manage.py db_worker --batch` process runs the queued deliver tasks (200 "
        "deliveries a task): e-mail by Django's SMTP backend (a connection per mail) to aiosmtpd, SMS by the "
        "Aliyun channel (signed request) to a local HTTP server; value = sent / (last sent_at - first sent_at)",
    )


def bench_messaging(args: argparse.Namespace, res: Results) -> None:
    for name, step in (
        ("notice", bench_notice),
        ("dispatch", bench_dispatch),
        ("intake", bench_intake),
        ("delivery", bench_delivery),
    ):
        say(f"--- messaging: {name}")
        step(args, res)
