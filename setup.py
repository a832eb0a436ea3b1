"""Package list for setuptools: orch's own packages plus prompts/ and bin/ shipped inside it.

pyproject.toml holds all metadata; this file exists only because setuptools cannot combine
automatic package discovery with the two mapped top-level folders declaratively.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["orch", "orch.*"]), "orch.prompts", "orch.bin"])
