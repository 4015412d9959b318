"""A helper module of the app that imports a package which is not installed."""

import not_installed_package


def greet() -> str:
    return not_installed_package.greeting()
