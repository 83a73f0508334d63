"""SMS through the two common Chinese providers, with their own request signing, configured from the environment.

- :class:`AliyunSmsChannel`: Aliyun (阿里云) SMS, ``dysmsapi`` ``SendSms`` (API version 2017-05-25), the RPC-style
  signature: the parameters sorted by name, each name and value percent-encoded (RFC 3986: only ``A-Za-z0-9-_.~`` stay
  as they are, a space is ``%20``), joined with ``&``; the string to sign is ``POST&%2F&`` + the percent-encoded
  query; the signature is base64(HMAC-SHA1(secret + "&", that string)). The template's parameters go as a JSON object
  (``TemplateParam``), the delivery's key as ``OutId``; the answer's ``BizId`` is the provider's id.
- :class:`TencentSmsChannel`: Tencent Cloud (腾讯云) SMS, ``SendSms`` (API version 2021-01-11), signed with
  TC3-HMAC-SHA256 in the ``Authorization`` header (canonical request over ``content-type`` and ``host`` and the
  SHA-256 of the JSON body; key derived from "TC3" + secret through the UTC date, the service "sms" and
  "tc3_request"). The template's parameters go in order (``TemplateParamSet``), the delivery's key as
  ``SessionContext``; the answer's ``SerialNo`` is the provider's id.

Settings (``config/settings.py`` reads them from the environment): ``GONGZHI_SMS_ALIYUN`` and ``GONGZHI_SMS_TENCENT``,
dicts with the credentials, the approved sign name, the endpoint (tests point it at a local server) and the region.
Neither provider takes an idempotency token for SendSms; ``OutId``/``SessionContext`` carry the key back in the
provider's receipts so that a duplicate can be traced.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from . import _http
from .base import Outgoing, SendResult

# ---- Aliyun ------------------------------------------------------------------------------------------------------

ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
ALIYUN_VERSION = "2017-05-25"
# Codes worth another try: the provider's own trouble and its rate limits (per minute/hour/day per number, account).
ALIYUN_RETRY = {
    "isp.SYSTEM_ERROR",
    "isp.GATEWAY_ERROR",
    "isv.BUSINESS_LIMIT_CONTROL",
    "isv.DAY_LIMIT_CONTROL",
    "Throttling.User",
    "Throttling",
    "ServiceUnavailable",
    "InternalError",
}


def aliyun_encode(value: str) -> str:
    """Aliyun's percent-encoding (RFC 3986 unreserved characters kept, everything else ``%XY`` of its UTF-8 bytes)."""
    return urllib.parse.quote(value, safe="-_.~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """The RPC signature of ``params`` (without ``Signature``)."""
    query = "&".join(f"{aliyun_encode(k)}={aliyun_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{aliyun_encode('/')}&{aliyun_encode(query)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _config(name: str) -> dict[str, Any]:
    value: dict[str, Any] = getattr(settings, name, {}) or {}
    return value


class AliyunSmsChannel:
    name = "sms"

    def __init__(self) -> None:
        cfg = _config("GONGZHI_SMS_ALIYUN")
        self.access_key_id = str(cfg.get("access_key_id", ""))
        self.access_key_secret = str(cfg.get("access_key_secret", ""))
        self.sign_name = str(cfg.get("sign_name", ""))
        self.region = str(cfg.get("region", "cn-hangzhou"))
        self.endpoint = str(cfg.get("endpoint") or ALIYUN_ENDPOINT)

    def params(self, message: Outgoing) -> dict[str, str]:
        """The signed parameters of one SendSms request."""
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": ALIYUN_VERSION,
            "PhoneNumbers": message.address.removeprefix("+86"),  # mainland numbers without the country code
            "SignName": self.sign_name,
            "TemplateCode": message.template_code,
            "TemplateParam": json.dumps(message.params, ensure_ascii=False, separators=(",", ":")),
            "OutId": message.key,
        }
        params["Signature"] = aliyun_signature(params, self.access_key_secret)
        return params

    def send(self, message: Outgoing) -> SendResult:
        data = "&".join(f"{aliyun_encode(k)}={aliyun_encode(v)}" for k, v in self.params(message).items())
        reply = _http.request(
            self.endpoint,
            data=data.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Accept": "application/json"},
        )
        answer = reply.json()
        code = str(answer.get("Code", "")) if isinstance(answer, dict) else ""
        if reply.status == 200 and code == "OK":
            return SendResult(ok=True, provider_id=str(answer.get("BizId", "")), answer=reply.describe())
        if reply.transient or code in ALIYUN_RETRY or code.startswith("Throttling") or code.startswith("isp."):
            return SendResult(ok=False, permanent=False, answer=reply.describe())
        return SendResult(ok=False, permanent=True, answer=reply.describe())


# ---- Tencent Cloud -----------------------------------------------------------------------------------------------

TENCENT_ENDPOINT = "https://sms.tencentcloudapi.com/"
TENCENT_VERSION = "2021-01-11"
TENCENT_SERVICE = "sms"
# Error codes (whole request or per number) worth another try: the provider's trouble, its rate and frequency limits.
TENCENT_RETRY_PREFIXES = ("InternalError", "RequestLimitExceeded", "LimitExceeded", "ResourceUnavailable")
TENCENT_RETRY = {"FailedOperation.InsufficientBalanceInSmsPackage"}  # a package topped up tomorrow


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def tencent_authorization(
    *, secret_id: str, secret_key: str, host: str, payload: bytes, timestamp: int, content_type: str
) -> str:
    """The TC3-HMAC-SHA256 ``Authorization`` header of one POST to ``/`` with ``payload``."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    signed_headers = "content-type;host"
    canonical_request = "\n".join(
        ["POST", "/", "", f"content-type:{content_type}\nhost:{host}\n", signed_headers, _sha256_hex(payload)]
    )
    scope = f"{date}/{TENCENT_SERVICE}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope, _sha256_hex(canonical_request.encode())])
    key = _hmac256(_hmac256(_hmac256(f"TC3{secret_key}".encode(), date), TENCENT_SERVICE), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"


def _tencent_retry(code: str) -> bool:
    return code in TENCENT_RETRY or code.startswith(TENCENT_RETRY_PREFIXES)


class TencentSmsChannel:
    name = "sms"
    content_type = "application/json; charset=utf-8"

    def __init__(self) -> None:
        cfg = _config("GONGZHI_SMS_TENCENT")
        self.secret_id = str(cfg.get("secret_id", ""))
        self.secret_key = str(cfg.get("secret_key", ""))
        self.sdk_app_id = str(cfg.get("sdk_app_id", ""))
        self.sign_name = str(cfg.get("sign_name", ""))
        self.region = str(cfg.get("region", "ap-guangzhou"))
        self.endpoint = str(cfg.get("endpoint") or TENCENT_ENDPOINT)

    def payload(self, message: Outgoing) -> bytes:
        phone = message.address if message.address.startswith("+") else f"+86{message.address}"
        body = {
            "PhoneNumberSet": [phone],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": message.template_code,
            "TemplateParamSet": [str(v) for v in message.params.values()],  # in the template's order
            "SessionContext": message.key,
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def send(self, message: Outgoing) -> SendResult:
        payload = self.payload(message)
        timestamp = int(time.time())
        host = urllib.parse.urlsplit(self.endpoint).netloc
        headers = {
            "Content-Type": self.content_type,
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": TENCENT_VERSION,
            "X-TC-Region": self.region,
            "Authorization": tencent_authorization(
                secret_id=self.secret_id,
                secret_key=self.secret_key,
                host=host,
                payload=payload,
                timestamp=timestamp,
                content_type=self.content_type,
            ),
        }
        reply = _http.request(self.endpoint, data=payload, headers=headers)
        answer = reply.json()
        response = answer.get("Response") if isinstance(answer, dict) else None
        if reply.transient or not isinstance(response, dict):
            return SendResult(ok=False, permanent=not reply.transient, answer=reply.describe())
        error = response.get("Error")
        if isinstance(error, dict):
            code = str(error.get("Code", ""))
            return SendResult(ok=False, permanent=not _tencent_retry(code), answer=reply.describe())
        statuses = response.get("SendStatusSet") or [{}]
        status = statuses[0] if isinstance(statuses[0], dict) else {}
        code = str(status.get("Code", ""))
        if code == "Ok":
            return SendResult(ok=True, provider_id=str(status.get("SerialNo", "")), answer=reply.describe())
        return SendResult(ok=False, permanent=not _tencent_retry(code), answer=reply.describe())
