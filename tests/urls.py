from django.urls import include, path

urlpatterns = [
    path("api/payments/", include("django_skillswap_payments.urls")),
]
