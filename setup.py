"""Finds the subpackages of the three layers, which pyproject.toml maps under ``funchost``."""

from setuptools import find_packages, setup

LAYERS = ("host", "worker", "bindings")

setup(
    packages=[
        "funchost",
        *(f"funchost.{layer}" for layer in LAYERS),
        *(f"funchost.{layer}.{sub}" for layer in LAYERS for sub in find_packages(layer)),
    ]
)
