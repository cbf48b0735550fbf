"""zonetracker's URLs."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from zonetracker import views

admin.site.site_header = _("zonetracker administration")
admin.site.site_title = _("zonetracker")
admin.site.index_title = _("Register, evaluations and accounts")

urlpatterns = [
    path("", views.home, name="home"),
    # Browsers ask for /favicon.ico wherever a page names no icon (a file, a JSON response).
    path("favicon.ico", views.favicon),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("zonetracker.api_urls")),
    path("", include("registry.urls")),
    path("", include("evaluations.urls")),
]

# A database that cannot be reached is a 503 with a page of its own, not a 500.
handler500 = "zonetracker.views.server_error"
