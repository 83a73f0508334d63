"""E-mail through Django's mail API and SMTP backend (``EMAIL_HOST``, ``EMAIL_PORT``, ``EMAIL_HOST_USER``,
``EMAIL_HOST_PASSWORD``, ``EMAIL_USE_TLS``/``EMAIL_USE_SSL``, ``DEFAULT_FROM_EMAIL``; ``GONGZHI_EMAIL_BACKEND`` may name
another backend class). A connection error, a timeout or a 4xx SMTP reply is tried again; a 5xx (recipient refused,
message rejected) is given up. The Message-ID is derived from the delivery's key, so that a message sent twice after
an unknown outcome is recognisable as the same message by the receiving side.
"""

from __future__ import annotations

import hashlib
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from . import _http
from .base import Outgoing, SendResult

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def message_id(key: str) -> str:
    """The Message-ID for the delivery ``key``: stable, and a valid addr-spec whatever the key holds."""
    domain = str(getattr(settings, "GONGZHI_EMAIL_MESSAGE_ID_DOMAIN", "") or "gongzhi.invalid")
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def _smtp_answer(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return _http.cut(f"SMTP {code} {message}")


class EmailChannel:
    name = "email"

    def send(self, message: Outgoing) -> SendResult:
        backend = str(getattr(settings, "GONGZHI_EMAIL_BACKEND", SMTP_BACKEND))
        timeout = getattr(settings, "EMAIL_TIMEOUT", None) or _http.timeout()
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address],
            headers={"Message-ID": message_id(message.key)},
        )
        try:
            connection = get_connection(backend, fail_silently=False, timeout=timeout)
            email.connection = connection
            sent = email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            # {address: (code, text)}: give up only when every refusal is permanent (5xx).
            codes = [code for code, _ in exc.recipients.values()]
            answer = "; ".join(_smtp_answer(code, text) for code, text in exc.recipients.values())
            return SendResult(ok=False, permanent=all(code >= 500 for code in codes), answer=_http.cut(answer))
        except smtplib.SMTPConnectError as exc:  # the server would not talk to us: try later
            return SendResult(ok=False, permanent=False, answer=_smtp_answer(exc.smtp_code, exc.smtp_error))
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, authentication...
            answer = _smtp_answer(exc.smtp_code, exc.smtp_error)
            return SendResult(ok=False, permanent=exc.smtp_code >= 500, answer=answer)
        except (smtplib.SMTPException, OSError) as exc:  # disconnected, refused, timed out, TLS trouble
            return SendResult(ok=False, permanent=False, answer=_http.cut(f"{type(exc).__name__}: {exc}"))
        if not sent:
            return SendResult(ok=False, permanent=False, answer="not sent")
        return SendResult(ok=True, provider_id=message_id(message.key), answer="sent")
