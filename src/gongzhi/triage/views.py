"""The triage pages: the subdistrict's page (the version in use with its accuracy, the versions and rollback,
training on demand, the auto-dispatch switch), and the fragments other pages compose by HTMX (cases cannot import
triage): a case's explained suggestions with one-click dispatch, and the intake list's top body per case."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from gongzhi.accounts import pages
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.http import AuthedRequest
from gongzhi.triage import selectors, services, tasks


@login_required
def case_suggestions(request: AuthedRequest, case_id: int) -> HttpResponse:
    result = selectors.case_suggestions(user=request.user, case_id=case_id)
    nxt = request.GET.get("next", "")
    return render(
        request,
        "triage/_case_suggestions.html",
        {"result": result, "case_id": case_id, "next": nxt if nxt.startswith("/") and not nxt.startswith("//") else ""},
    )


@login_required
@require_GET
def desk_suggestions(request: AuthedRequest) -> HttpResponse:
    """The intake list's line per case (out-of-band swaps into each row's placeholder)."""
    ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.strip().isdigit()][:200]
    rows = selectors.desk_suggestions(user=request.user, case_ids=ids)
    return render(request, "triage/_desk_suggestions.html", {"rows": rows})


class AutoDispatchForm(forms.Form):
    enabled = forms.BooleanField(label=gettext_lazy("The model dispatches on its own"), required=False)
    categories = forms.MultipleChoiceField(label=gettext_lazy("For these categories"), required=False)
    bodies = forms.MultipleChoiceField(label=gettext_lazy("Or to these bodies"), required=False)
    train_every_days = forms.IntegerField(label=gettext_lazy("Train again every (days)"), min_value=1, max_value=365)


@login_required
@pages.page("triage-home")
def home(request: AuthedRequest) -> HttpResponse:
    user = request.user
    versions = list(selectors.versions(user=user)[:20])
    active = next((v for v in versions if v.is_active), None)
    subdistricts = selectors.settings_for(user=user)
    choices = selectors.switch_choices(user=user)
    forms_by_node = []
    status = 200
    for node, row in subdistricts:
        initial = {
            "enabled": bool(row and row.enabled),
            "categories": [str(c.pk) for c in row.categories.all()] if row else [],
            "bodies": [str(b.pk) for b in row.bodies.all()] if row else [],
            "train_every_days": row.train_every_days if row else 7,
        }
        bound = request.method == "POST" and request.POST.get("subdistrict") == str(node.pk)
        form = AutoDispatchForm(request.POST if bound else None, initial=initial, prefix=f"s{node.pk}")
        form.fields["categories"].choices = choices["categories"]  # type: ignore[attr-defined]  # a ChoiceField
        form.fields["bodies"].choices = choices["bodies"]  # type: ignore[attr-defined]  # a ChoiceField
        if bound:
            if form.is_valid():
                d = form.cleaned_data
                try:
                    services.save_auto_dispatch(
                        user=user, subdistrict_id=node.pk, enabled=d["enabled"],
                        category_ids=[int(i) for i in d["categories"]], body_ids=[int(i) for i in d["bodies"]],
                        train_every_days=d["train_every_days"],
                    )  # fmt: skip
                except DomainError as exc:
                    form.add_error(None, str(exc.message))
                else:
                    messages.success(request, _("Auto-dispatch settings of %(place)s saved.") % {"place": node.name})
                    return redirect("triage-home")
            status = 400
        forms_by_node.append((node, form))
    return render(
        request,
        "triage/home.html",
        {
            "versions": versions,
            "active": active,
            "feedback": selectors.feedback_counts(user=user, version=active),
            "forms": forms_by_node,
        },
        status=status,
    )


@login_required
@pages.page("triage-home")
@require_POST
def train_now(request: AuthedRequest) -> HttpResponse:
    """Training on demand: queued for the worker (a year of cases takes a while)."""
    services.check_may_train(user=request.user)
    tasks.train.enqueue(request.user.pk)
    messages.success(request, _("Training queued: the new version is put in use when it is done."))
    return redirect("triage-home")


@login_required
@pages.page("triage-home")
@require_POST
def activate(request: AuthedRequest, version_id: int) -> HttpResponse:
    version = selectors.versions(user=request.user).filter(pk=version_id).first()
    if version is None:
        raise NotFound()
    services.activate(user=request.user, version=version)
    messages.success(request, _("Version v%(version)s is in use now.") % {"version": version.pk})
    return redirect("triage-home")
