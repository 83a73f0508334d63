from django.contrib import admin

from gongzhi.triage.models import AutoDispatch, BodySuccessor, CaseSuggestion, Feedback, ModelVersion


@admin.register(AutoDispatch)
class AutoDispatchAdmin(admin.ModelAdmin[AutoDispatch]):
    list_display = ("subdistrict", "enabled", "train_every_days", "updated_at")
    filter_horizontal = ("categories", "bodies")
    raw_id_fields = ("subdistrict",)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin[ModelVersion]):
    list_display = ("pk", "source", "n", "classes", "threshold", "is_active", "created_at")
    readonly_fields = ("file", "metrics")


@admin.register(BodySuccessor)
class BodySuccessorAdmin(admin.ModelAdmin[BodySuccessor]):
    list_display = ("body", "successor")
    raw_id_fields = ("body", "successor")


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin[Feedback]):
    list_display = ("case", "kind", "suggested_body", "body", "confidence", "version", "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("case", "suggested_body", "body", "actor", "version")


@admin.register(CaseSuggestion)
class CaseSuggestionAdmin(admin.ModelAdmin[CaseSuggestion]):
    list_display = ("case", "body", "confidence", "category", "dispatched", "version")
    list_filter = ("dispatched",)
    raw_id_fields = ("case", "body", "category", "version")
