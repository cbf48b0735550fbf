from django.urls import path

from registry import views

app_name = "registry"

urlpatterns = [
    path("zones/", views.zone_list, name="zone_list"),
    path("zones/<slug:slug>/", views.zone_detail, name="zone_detail"),
    path("batches/", views.batch_list, name="batch_list"),
]
