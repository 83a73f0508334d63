from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    MET = "met", _("Met the household")
    NOT_HOME = "not_home", _("Nobody at home")
    REFUSED = "refused", _("Refused the visit")
    MOVED_AWAY = "moved_away", _("Moved away / empty")


# A campaign target counts as covered once a visit reached the household (met it); a visit to an empty door does
# not cover it (the worker comes back), but a household found moved away is settled.
COVERING_OUTCOMES = (Outcome.MET, Outcome.MOVED_AWAY)
