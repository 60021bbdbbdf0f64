#!/usr/bin/env bash
# Regenerate the pinned requirement files from their .in sources with pip-compile (pip-tools,
# pinned in requirements-dev.in). Existing pins are kept unless an .in file asks otherwise;
# `--upgrade-package NAME` (passed through) moves one package.
#
#   requirements.in        -> requirements.txt         runtime: core, console, API, client, stack
#   requirements-dev.in    -> requirements-dev.txt     runtime + tests and linters (the test command)
#   requirements-api.in    -> requirements-api.txt     the API image (docker/api.Dockerfile)
#   requirements-client.in -> requirements-client.txt  the client app image
#   requirements-mlflow.in -> requirements-mlflow.txt  the compose stack's MLflow server
#
# The slim files are constrained by requirements.txt (`-c`), so every image has the same versions.
# One normalisation after pip-compile: this machine's PyTorch is a local CPU build (2.13.0+cpu);
# the pin is written `torch==2.13.0`, which that file satisfies and which also installs elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
export CUSTOM_COMPILE_COMMAND="scripts/compile_requirements.sh"
for name in requirements requirements-dev requirements-api requirements-client requirements-mlflow; do
  .venv/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
    --output-file "$name.txt" "$@" "$name.in"
  sed -i -E 's/^torch==([0-9.]+)\+cpu$/torch==\1/' "$name.txt"
done
