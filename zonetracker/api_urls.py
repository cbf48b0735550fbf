"""The open-data API's URLs under /api/v1/: the register's endpoints and the published
cycles', the OpenAPI schema and its documentation page."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from evaluations import api as evaluations_api
from registry import api as registry_api
from zonetracker.api_docs import api_docs

app_name = "api"

urlpatterns = [
    path("provinces/", registry_api.ProvinceList.as_view(), name="province_list"),
    path("batches/", registry_api.BatchList.as_view(), name="batch_list"),
    path("zones/", registry_api.ZoneList.as_view(), name="zone_list"),
    path("zones/<slug:slug>/", registry_api.ZoneDetail.as_view(), name="zone_detail"),
    path("cycles/", evaluations_api.CycleList.as_view(), name="cycle_list"),
    path("cycles/<int:year>/", evaluations_api.CycleDetail.as_view(), name="cycle_detail"),
    path("cycles/<int:year>/results/", evaluations_api.ResultList.as_view(), name="cycle_results"),
    path("decisions/", evaluations_api.DecisionList.as_view(), name="decision_list"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The documentation page, drawn on the server from the same schema.
    path("docs/", api_docs, name="docs"),
]
