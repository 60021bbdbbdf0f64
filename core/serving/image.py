"""What the API image can load: the distributions its pinned requirements file installs.

A version records, at registration, the distributions its classifier needs on the API's runtime
(``serving_requirements``: e.g. ``onnxruntime, tokenizers`` for a BERT-family model on ONNX,
``tensorflow, keras`` for a Keras one) and those the image lacks (``api_image_missing``). The
champion alias is refused to a version the image lacks something for
(:func:`core.tracking.registry.set_alias`): the deployed API would fail to load it.
"""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from core.errors import ConfigError


def image_distributions(requirements_file: Path) -> set[str]:
    """Canonical names of the distributions a pinned requirements file installs.

    Raises:
        ConfigError: the file is missing or a line is not a requirement.
    """
    path = Path(requirements_file)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"serving.image_requirements: cannot read {path} ({exc.strerror}).") from None
    names = set()
    for number, line in enumerate(lines, start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            names.add(canonicalize_name(Requirement(line).name))
        except InvalidRequirement:
            raise ConfigError(f"{path}, line {number}: not a requirement: {line!r}.") from None
    return names


def missing_from_image(requirements: tuple[str, ...], requirements_file: Path) -> list[str]:
    """The distributions of ``requirements`` the image of ``requirements_file`` does not install."""
    installed = image_distributions(requirements_file)
    return [name for name in requirements if canonicalize_name(name) not in installed]


def serving_tags(requirements: tuple[str, ...], runtime: str, requirements_file: Path) -> dict[str, str]:
    """The tags a registered version carries about what serving it needs."""
    missing = missing_from_image(requirements, requirements_file)
    return {
        "serving_runtime": runtime,
        "serving_requirements": ",".join(requirements),
        "api_image_missing": ",".join(missing),
        "api_image_servable": "false" if missing else "true",
    }
