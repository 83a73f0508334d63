"""Which channels a user gets: their own :class:`~.models.Preference` when they chose, else the defaults their
subdistrict set for their roles (:class:`~.models.RoleDefault`; several roles: the union, a channel on when any of
the roles' defaults turns it on), else the built-in defaults (SMS and e-mail on, quiet hours 22:00–07:00)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from gongzhi.core.scope import ancestor_codes
from gongzhi.messaging.models import Preference, RoleDefault

DEFAULT_PREFERENCE = Preference()  # unsaved: the defaults for a user who never chose (and for a phone without account)


def from_role_defaults(user_ids: Iterable[int]) -> dict[int, Preference]:
    """An unsaved preference for each of ``user_ids`` whose roles have defaults in their subdistrict (two queries)."""
    from gongzhi.accounts.models import RoleAssignment

    ids = list(user_ids)
    if not ids:
        return {}
    rows = RoleAssignment.objects.filter(user_id__in=ids, is_active=True).values_list(
        "user_id", "role", "node__code", "body__node__code"
    )
    wanted: dict[int, set[tuple[str, str]]] = defaultdict(set)  # user → (place code up the tree, role)
    for user_id, role, node_code, body_code in rows:
        for code in (node_code, body_code):
            if code:
                wanted[user_id].update((c, role) for c in [*ancestor_codes(code), code])
    codes = sorted({code for pairs in wanted.values() for code, _role in pairs})
    roles = sorted({role for pairs in wanted.values() for _code, role in pairs})
    if not codes:
        return {}
    defaults = {
        (code, role): (sms, email)
        for code, role, sms, email in RoleDefault.objects.filter(node__code__in=codes, role__in=roles).values_list(
            "node__code", "role", "sms", "email"
        )
    }
    out: dict[int, Preference] = {}
    for user_id, pairs in wanted.items():
        found = [defaults[pair] for pair in pairs if pair in defaults]
        if found:
            out[user_id] = Preference(user_id=user_id, sms=any(s for s, _e in found), email=any(e for _s, e in found))
    return out


def effective(user_ids: Iterable[int]) -> dict[int, tuple[Preference, bool]]:
    """Each user's preference and whether they chose it themselves (False: their roles' or the built-in defaults)."""
    ids = list(dict.fromkeys(user_ids))
    own = {p.user_id: p for p in Preference.objects.filter(user_id__in=ids)}
    by_role = from_role_defaults(u for u in ids if u not in own)
    out: dict[int, tuple[Preference, bool]] = {}
    for u in ids:
        if u in own:
            out[u] = (own[u], True)
        else:
            out[u] = (by_role.get(u) or Preference(user_id=u), False)
    return out
