"""URLs of the evaluation pages: the work queues and one evaluation's entry and approval."""

from django.urls import path

from evaluations import (
    decision_views,
    notification_views,
    overview_views,
    policy_views,
    ranking_views,
    report_views,
    reporting_views,
    views,
)

app_name = "evaluations"

urlpatterns = [
    path("evaluations/", views.current_cycle_evaluations, name="current_cycle_evaluations"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation_detail"),
    path("evaluations/<int:pk>/submit/", views.evaluation_submit_view, name="evaluation_submit"),
    path("evaluations/<int:pk>/approve/", views.evaluation_approve_view, name="evaluation_approve"),
    path("evaluations/<int:pk>/return/", views.evaluation_return_view, name="evaluation_return"),
    path("cycles/<int:year>/evaluations/", views.cycle_evaluations, name="cycle_evaluations"),
    path("reports/", reporting_views.current_reports, name="current_reports"),
    path("cycles/<int:year>/reports/", reporting_views.cycle_reports, name="cycle_reports"),
    path("reports/<int:pk>/", reporting_views.report_detail, name="report_detail"),
    path("reports/<int:pk>/save/", reporting_views.report_save_view, name="report_save"),
    path("reports/<int:pk>/forward/", reporting_views.report_forward_view, name="report_forward"),
    path("reports/<int:pk>/return/", reporting_views.report_return_view, name="report_return"),
    path("reports/<int:pk>/verify/", reporting_views.report_verify_view, name="report_verify"),
    path(
        "reports/<int:pk>/evidence/", reporting_views.evidence_upload_view, name="evidence_upload"
    ),
    path("evidence/<int:pk>/", reporting_views.evidence_download, name="evidence_download"),
    path("rankings/", ranking_views.latest_rankings, name="latest_rankings"),
    path("cycles/<int:year>/rankings/", ranking_views.cycle_rankings, name="cycle_rankings"),
    path("cycles/<int:year>/decisions/", decision_views.cycle_decisions, name="cycle_decisions"),
    path(
        "cycles/<int:year>/decisions/<int:pk>/",
        decision_views.decision_record_view,
        name="decision_record",
    ),
    path(
        "cycles/<int:year>/decisions/record/",
        decision_views.decisions_record_many_view,
        name="decisions_record_many",
    ),
    path("notifications/", notification_views.notification_list, name="notification_list"),
    path(
        "notifications/read/",
        notification_views.notification_mark_all_read,
        name="notification_mark_all_read",
    ),
    path("cycles/<int:year>/progress/", overview_views.cycle_progress, name="cycle_progress"),
    path("cycles/<int:year>/report/", report_views.annual_report, name="annual_report"),
    path("cycles/<int:year>/report.pdf", report_views.annual_report_pdf, name="annual_report_pdf"),
    path("methodology/", overview_views.latest_methodology, name="latest_methodology"),
    path(
        "cycles/<int:year>/methodology/",
        overview_views.cycle_methodology,
        name="cycle_methodology",
    ),
    path("cycles/<int:year>/what-if/", policy_views.cycle_what_if, name="cycle_what_if"),
    path(
        "cycles/<int:year>/what-if/save/",
        policy_views.cycle_what_if_save,
        name="cycle_what_if_save",
    ),
    path(
        "cycles/<int:year>/evaluations/bulk/",
        views.cycle_evaluations_bulk,
        name="cycle_evaluations_bulk",
    ),
]
