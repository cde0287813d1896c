from demo import views
from django.conf import settings
from django.urls import include, path, re_path
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

urlpatterns = [
    path("api/payments/", include("django_skillswap_payments.urls")),
    path("api/auth/token/", TokenObtainPairView.as_view(), name="token_obtain_pair"),
    path("api/auth/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    path("api/auth/me/", views.MeView.as_view(), name="me"),
    path("api/demo/recipients/", views.RecipientsView.as_view(), name="demo-recipients"),
    path("api/demo/notifications/", views.NotificationsView.as_view(), name="demo-notifications"),
    path("api/demo/receipts/", views.ReceiptsView.as_view(), name="demo-receipts"),
]

if settings.STRIPE_EMULATED:
    from demo.stripe_emulator import emulator

    from django_skillswap_payments.testing.emulator import django_urls

    urlpatterns += django_urls(emulator, f"{settings.STRIPE_EMULATOR_PREFIX}/")

# Last: whatever matched nothing above is a 404 page of the site's own, never Django's debug list.
urlpatterns.append(re_path(r"^", views.not_found, name="not-found"))
handler404 = "demo.views.not_found"
