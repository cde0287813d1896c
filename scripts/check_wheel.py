"""Fail if a built wheel ships anything but the package itself."""

import sys
import zipfile

ALLOWED_TOP_LEVEL = ("django_skillswap_payments/", "django_skillswap_payments-")


def main(paths: list[str]) -> int:
    status = 0
    for path in paths:
        names = zipfile.ZipFile(path).namelist()
        strays = [name for name in names if not name.startswith(ALLOWED_TOP_LEVEL)]
        if strays:
            print(f"{path}: unexpected files in wheel: {strays[:10]}")
            status = 1
        else:
            print(f"{path}: {len(names)} files, package only")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
