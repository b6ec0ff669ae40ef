#!/usr/bin/env bash
# Installs every Debian package cyolo's build, tests and benchmarks need.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config \
  libdnnl-dev libopenblas-dev libyaml-dev libcjson-dev \
  libjpeg62-turbo-dev libpng-dev libexif-dev libzip-dev libcairo2-dev \
  libprotobuf-c-dev protobuf-c-compiler \
  valgrind >/dev/null
