from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "SkillSwap demo"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Receivers are connected here, never at import time, as Django recommends.
        from . import receivers

        receivers.connect()
