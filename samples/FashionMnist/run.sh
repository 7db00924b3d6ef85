#!/usr/bin/env bash
# Trains on Fashion-MNIST on a fresh machine: installs Debian's dataset-fashion-mnist when it is missing and
# this user may (root, or sudo without a password), then runs the trainer with the arguments given.
set -euo pipefail
cd "$(dirname "$0")/../.."
data=/usr/share/datasets/fashion-mnist
if [[ " $* " != *" --data "* && ! -d $data ]]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
  elif sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
  else
    echo "Fashion-MNIST is not installed: run 'sudo apt-get install dataset-fashion-mnist', or pass --data DIR" \
         "with the four IDX .gz files." >&2
    exit 1
  fi
fi
exec dotnet run -c Release --project samples/FashionMnist -- "$@"
