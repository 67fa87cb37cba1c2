#!/usr/bin/env bash
# The demo: installs what is missing, builds, and runs analyses/demo.toml (train the embedded
# MNIST LRM models, extract, localize, steer, compare with the Kriegeskorte 2008 brain RDMs, report).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
build/lrm run analyses/demo.toml "$@"
