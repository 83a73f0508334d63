"""Settings, read from the environment.

``DEBUG``, ``SECRET_KEY``, ``DATABASE_URL`` and ``ALLOWED_HOSTS`` come from the environment; the defaults are
safe (debug off) except that a development secret key is allowed while ``DEBUG`` is on or under tests.
"""

import json
import os
import sys
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# admin.ModelAdmin[Case], Paginator[Case] and the like (mypy strict's generic base classes) work at run time.
django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent.parent
ROOT_DIR = PACKAGE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("GONGZHI_VAR_DIR", ROOT_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


TESTING = "pytest" in sys.modules or env_bool("GONGZHI_TESTING", False)
DEBUG = env_bool("DEBUG", False)

DEVELOPMENT_SECRET_KEY = "gongzhi-insecure-development-key-do-not-use-in-production-0123456789"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING or env_bool("GONGZHI_DEMO", False):
        SECRET_KEY = DEVELOPMENT_SECRET_KEY
    else:
        raise ImproperlyConfigured("Set the SECRET_KEY environment variable (DEBUG is off).")


# --- The development key only on loopback (issue 14) ----------------------------------------------------------
def bind_is_loopback(bind: str) -> bool:
    """``GONGZHI_BIND`` (gunicorn's address, ``host:port``) names this machine only: 127.0.0.0/8, ::1, localhost."""
    import ipaddress

    host = bind.strip()
    if host.startswith("["):  # [::1]:8000
        host = host[1 : host.find("]")]
    elif host.count(":") == 1:  # 127.0.0.1:8000, localhost:8000
        host = host.split(":", 1)[0]
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # 0.0.0.0 is an address, a host name or unix:/path is not loopback as far as we know
        return False


GONGZHI_BIND = os.environ.get("GONGZHI_BIND", "127.0.0.1:8000")
if SECRET_KEY == DEVELOPMENT_SECRET_KEY and not TESTING and not bind_is_loopback(GONGZHI_BIND):
    raise ImproperlyConfigured(
        f"The built-in development secret key is only for a server on this machine (GONGZHI_BIND={GONGZHI_BIND!r}): "
        "bind to 127.0.0.1, localhost or ::1, or set SECRET_KEY."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "ninja",
    "gongzhi.core",
    "gongzhi.accounts",
    "gongzhi.territory",
    "gongzhi.cases",
    "gongzhi.registry",
    "gongzhi.messaging",
    "gongzhi.visits",
    "gongzhi.notices",
    "gongzhi.service",
    "gongzhi.recognition",
    "gongzhi.inspections",
    "gongzhi.participation",
    "gongzhi.meetings",
    "gongzhi.triage",
    "gongzhi.disputes",
    "gongzhi.open311",
    "gongzhi.kpis",
    "gongzhi.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gongzhi.core.headers.SecurityHeadersMiddleware",  # Content-Security-Policy, Permissions-Policy (issue 14)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gongzhi.core.middleware.DomainErrorMiddleware",
    "gongzhi.core.middleware.LockoutPageMiddleware",  # before axes: it dresses axes' lockout answer as a page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gongzhi.config.urls"
WSGI_APPLICATION = "gongzhi.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "gongzhi.config.context.nav",  # the main menu, from the page policy (accounts.pages)
                "gongzhi.config.context.inbox",  # the bell's unread count (messaging)
                "gongzhi.config.context.offline",  # the pages the service worker keeps for offline use
            ],
        },
    },
]

# --- Database: SQLite (WAL) by default, PostgreSQL through DATABASE_URL -----------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'gongzhi.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    if TESTING:
        DATABASES["default"]["TEST"] = {"NAME": ""}
else:
    # PostgreSQL: parameters bound by the server, and a statement a connection has run 5 times kept prepared
    # (psycopg's default threshold): the server then skips parsing and planning it again. Intake's statements cost
    # the server a third less CPU (docs/performance.md). Behind a transaction-mode PgBouncer, which cannot keep
    # prepared statements, set GONGZHI_PG_PREPARED=0.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True}
        if os.environ.get("GONGZHI_PG_PREPARED", "1") != "0"
        else {"server_side_binding": True, "prepare_threshold": None}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth and security -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Hashing strength is not what the tests measure; argon2 stays first in production.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "gongzhi.accounts.auth.AddressLockoutBackend",  # failed log-ins per address, across usernames (issue 14)
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "gongzhi.accounts.auth.lockout_response"

# Production (DEBUG off, not the demo, not a test run) is https-only by default: secure cookies, a redirect to
# https and HSTS, so that `gongzhi check --deploy` is clean. The demo and the test client speak plain http on
# localhost. Behind a TLS proxy the proxy must set X-Forwarded-Proto (and must strip it from clients).
PLAIN_HTTP = DEBUG or TESTING or env_bool("GONGZHI_DEMO", False)
SECURE_COOKIES = env_bool("SECURE_COOKIES", not PLAIN_HTTP)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE_COOKIES and not PLAIN_HTTP)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if SECURE_SSL_REDIRECT else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Client address, rate limits, log-in lock-out per address (issue 14) ---------------------------------------
# The client's address is REMOTE_ADDR unless the peer is a trusted proxy (addresses or networks, e.g.
# GONGZHI_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8 behind nginx on the same box or a private network); only then is
# X-Forwarded-For read, from the right (gongzhi.core.http.client_ip). django-axes uses the same function.
GONGZHI_TRUSTED_PROXIES = env_list("GONGZHI_TRUSTED_PROXIES", "")
# Content-Security-Policy (gongzhi.core.headers): extra image hosts, e.g. a base-map's tile server
# (GONGZHI_CSP_IMG_HOSTS=https://tiles.example.org); nothing else is loaded from another origin.
GONGZHI_CSP_IMG_HOSTS = env_list("GONGZHI_CSP_IMG_HOSTS", "")
# Base maps (docs/maps.md; gongzhi.territory.basemaps): 天地图 with a key (CGCS2000 ≈ WGS-84: vector and imagery,
# each with its annotation layer), 高德/AMap tiles when switched on (GCJ-02: the pages shift what they draw onto them),
# or any WGS-84 XYZ tile server of one's own. None of them: the maps say "no base map configured" and draw the
# territory's own layers. Their tile hosts join the images the Content-Security-Policy allows.
GONGZHI_TIANDITU_KEY = os.environ.get("GONGZHI_TIANDITU_KEY", "")
GONGZHI_AMAP_TILES = env_bool("GONGZHI_AMAP_TILES", False)
GONGZHI_MAP_TILE_URL = os.environ.get("GONGZHI_MAP_TILE_URL", "")
if GONGZHI_TIANDITU_KEY:
    GONGZHI_CSP_IMG_HOSTS.append("https://*.tianditu.gov.cn")
if GONGZHI_AMAP_TILES:
    GONGZHI_CSP_IMG_HOSTS.append("https://*.is.autonavi.com")
AXES_CLIENT_IP_CALLABLE = "gongzhi.core.http.client_ip"
# Limits per client address, counted in the database (core.throttle: one count for every worker). The public
# report, track and rate endpoints share their counts between the API and the resident pages; "public_track_miss"
# counts the lookups that found nothing (guesses of a tracking code or a number and phone).
GONGZHI_RATES = {
    "public_report": os.environ.get("GONGZHI_RATE_PUBLIC_REPORT", "20/h"),
    "public_track": os.environ.get("GONGZHI_RATE_PUBLIC_TRACK", "60/h"),
    "public_track_miss": os.environ.get("GONGZHI_RATE_PUBLIC_TRACK_MISS", "10/h"),
    "public_rate": os.environ.get("GONGZHI_RATE_PUBLIC_RATE", "20/h"),
    # Open311 reads without an api_key, per client address (a key has its own rate: docs/open311.md).
    "open311": os.environ.get("GONGZHI_RATE_OPEN311", "60/m"),
    # The public wish walls and projects pages (participation, no account): page views per address.
    "public_wall": os.environ.get("GONGZHI_RATE_PUBLIC_WALL", "600/h"),
    # Recognition: the public campaign pages and votes, and SMS codes asked for, per client address.
    "public_vote": os.environ.get("GONGZHI_RATE_PUBLIC_VOTE", "300/h"),
    "public_code": os.environ.get("GONGZHI_RATE_PUBLIC_CODE", "20/h"),
    # Failed log-ins from one address, whatever the usernames (axes counts per username + address).
    "login_failed_address": os.environ.get("GONGZHI_RATE_LOGIN_FAILED_ADDRESS", "30/15m"),
}

# --- i18n: Chinese first, English available -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files: npm packages (node_modules) plus our own, served by whitenoise -------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
NODE_MODULES = Path(os.environ.get("GONGZHI_NODE_MODULES", ROOT_DIR / "node_modules"))
STATICFILES_DIRS = [
    ("vendor/leaflet", NODE_MODULES / "leaflet" / "dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    ("vendor/markercluster", NODE_MODULES / "leaflet.markercluster" / "dist"),
    # The offline app (docs/offline.md): workbox-sw loads its modules from one folder (its modulePathPrefix), so each
    # module's build joins vendor/workbox; IndexedDB through idb; photos shrunk on the phone.
    ("vendor/workbox", NODE_MODULES / "workbox-sw" / "build"),
    *(
        ("vendor/workbox", NODE_MODULES / f"workbox-{module}" / "build")
        for module in ("core", "routing", "strategies", "expiration", "cacheable-response", "precaching")
    ),
    ("vendor/idb", NODE_MODULES / "idb" / "build"),
    ("vendor/image-compression", NODE_MODULES / "browser-image-compression" / "dist"),
    ("vendor/piexif", NODE_MODULES / "piexifjs"),
    ("vendor/qrcode", NODE_MODULES / "qrcode-generator" / "dist"),  # QR codes: activity check-in, meeting sign-in
]
STATICFILES_DIRS = [entry for entry in STATICFILES_DIRS if entry[1].is_dir()]
STATICFILES_DIRS.append(("", PACKAGE_DIR / "static"))  # our own CSS/JS: static/gongzhi/…
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

# --- Background work: the Tasks API (django-tasks backport) ----------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if TESTING
            else "django_tasks_db.backend.DatabaseBackend"
        )
    }
}

# --- KPIs (docs/kpis.md) -----------------------------------------------------------------------------------------
# The composite score's weights (rates where lower is better count as 1 − rate), as JSON in the environment, e.g.
# GONGZHI_KPI_SCORE_WEIGHTS='{"disposal": 30, "ontime_disposal": 20, "rework": 20, "overdue_pending": 20, …}'
KPI_SCORE_WEIGHTS = json.loads(os.environ.get("GONGZHI_KPI_SCORE_WEIGHTS", "null")) or {
    "disposal": 30,
    "ontime_disposal": 20,
    "rework": 20,
    "overdue_pending": 20,
    "postponement": 10,
}
# How much a "basically satisfied" rating counts towards the satisfaction rate (1 = as much as "satisfied").
KPI_BASICALLY_SATISFIED_WEIGHT = float(os.environ.get("GONGZHI_KPI_BASICALLY_SATISFIED_WEIGHT", "1"))

# --- API -------------------------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_PER_PAGE_SIZE = 500
API_TOKEN_TTL_DAYS = int(os.environ.get("API_TOKEN_TTL_DAYS", "30"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

if TESTING:
    # The test client speaks plain http; production keeps the redirect (see the security block).
    SECURE_SSL_REDIRECT = False
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False

# The address people reach the site at, for the links in SMS and e-mail (the demo: where it serves).
# How long a submission's idempotency key (core.idempotency) is remembered: a phone's queue must send within this.
GONGZHI_IDEMPOTENCY_DAYS = int(os.environ.get("GONGZHI_IDEMPOTENCY_DAYS", "7"))
GONGZHI_SITE_URL = os.environ.get("GONGZHI_SITE_URL", f"http://{os.environ.get('GONGZHI_BIND', '127.0.0.1:8000')}")

# --- Messaging (issue 17): which class sends each channel (gongzhi.messaging.channels.base.get). Without a provider
# configured (the demo, tests) SMS and e-mail go to the recording channel, shown to administrators as "would have sent".
GONGZHI_MESSAGING_CHANNELS: dict[str, str] = {
    "sms": os.environ.get("GONGZHI_SMS_CHANNEL", "gongzhi.messaging.channels.record.RecordingChannel"),
    "email": os.environ.get("GONGZHI_EMAIL_CHANNEL", "gongzhi.messaging.channels.record.RecordingChannel"),
    "wecom": os.environ.get("GONGZHI_WECOM_CHANNEL", "gongzhi.messaging.channels.record.RecordingChannel"),
}
# The channels' own settings (gongzhi/messaging/channels/*.py). Seconds an SMS/WeCom/SMTP call may take:
GONGZHI_MESSAGING_TIMEOUT = float(os.environ.get("GONGZHI_MESSAGING_TIMEOUT", "10"))
# The local hour the daily digests go out (messaging.schedule; users who chose the digest).
GONGZHI_MESSAGING_DIGEST_HOUR = int(os.environ.get("GONGZHI_MESSAGING_DIGEST_HOUR", "18"))
# E-mail (channels.email.EmailChannel): Django's SMTP settings.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "gongzhi@localhost")
GONGZHI_EMAIL_MESSAGE_ID_DOMAIN = os.environ.get("GONGZHI_EMAIL_MESSAGE_ID_DOMAIN", "")
# SMS (channels.sms): GONGZHI_SMS_CHANNEL=gongzhi.messaging.channels.sms.AliyunSmsChannel (or TencentSmsChannel).
GONGZHI_SMS_ALIYUN = {
    "access_key_id": os.environ.get("ALIYUN_SMS_ACCESS_KEY_ID", ""),
    "access_key_secret": os.environ.get("ALIYUN_SMS_ACCESS_KEY_SECRET", ""),
    "sign_name": os.environ.get("ALIYUN_SMS_SIGN_NAME", ""),
    "region": os.environ.get("ALIYUN_SMS_REGION", "cn-hangzhou"),
    "endpoint": os.environ.get("ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com/"),
}
GONGZHI_SMS_TENCENT = {
    "secret_id": os.environ.get("TENCENT_SMS_SECRET_ID", ""),
    "secret_key": os.environ.get("TENCENT_SMS_SECRET_KEY", ""),
    "sdk_app_id": os.environ.get("TENCENT_SMS_SDK_APP_ID", ""),
    "sign_name": os.environ.get("TENCENT_SMS_SIGN_NAME", ""),
    "region": os.environ.get("TENCENT_SMS_REGION", "ap-guangzhou"),
    "endpoint": os.environ.get("TENCENT_SMS_ENDPOINT", "https://sms.tencentcloudapi.com/"),
}
# WeCom group robots (channels.wecom): "markdown" or "text".
GONGZHI_WECOM_MSGTYPE = os.environ.get("GONGZHI_WECOM_MSGTYPE", "markdown")
