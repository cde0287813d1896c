"""Fail if a built wheel ships anything but the package itself."""

import sys
import zipfile

ALLOWED_TOP_LEVEL = ("django_skillswap_payments/", "django_skillswap_payments-")
# Data files the app needs at run time besides its modules.
REQUIRED = tuple(
    f"django_skillswap_payments/templates/django_skillswap_payments/email/{name}.{kind}"
    for name in ("premium_receipt", "tip_receipt", "tip_received")
    for kind in ("txt", "html")
) + ("django_skillswap_payments/py.typed",)


def main(paths: list[str]) -> int:
    status = 0
    for path in paths:
        names = zipfile.ZipFile(path).namelist()
        strays = [name for name in names if not name.startswith(ALLOWED_TOP_LEVEL)]
        missing = [name for name in REQUIRED if name not in names]
        if strays:
            print(f"{path}: unexpected files in wheel: {strays[:10]}")
            status = 1
        elif missing:
            print(f"{path}: files missing from wheel: {missing}")
            status = 1
        else:
            print(f"{path}: {len(names)} files, package only")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
