#!/bin/sh
# Renders deploy/overlays/localhost for a `tollgate serve` on 127.0.0.1:
#
#   deploy/overlays/localhost/render.sh PORT CA_FILE | kubectl apply -f -
#
# PORT     the port Tollgate listens on (1-65535)
# CA_FILE  PEM file of the CA that signed Tollgate's serving certificate
#          (for test/e2e/controlplane: test/e2e/.run/pki/ca.crt, which signed
#          pki/webhook.crt)
# KUBECTL  environment variable: the kubectl to run `kubectl kustomize` with
#          (default: kubectl on PATH)
#
# Prints the three webhook configurations with both placeholders replaced.
set -eu

usage() {
  echo "usage: $0 PORT CA_FILE" >&2
  exit 2
}

[ "$#" -eq 2 ] || usage
port=$1
ca_file=$2

case $port in
  '' | *[!0-9]*) echo "render.sh: PORT must be a number, got '$port'" >&2; exit 2 ;;
esac
if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
  echo "render.sh: PORT must be between 1 and 65535, got $port" >&2
  exit 2
fi
if [ ! -r "$ca_file" ]; then
  echo "render.sh: cannot read CA file '$ca_file'" >&2
  exit 2
fi
if ! grep -q -- '-----BEGIN CERTIFICATE-----' "$ca_file"; then
  echo "render.sh: '$ca_file' holds no PEM certificate" >&2
  exit 2
fi

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
bundle=$(base64 < "$ca_file" | tr -d '\n')
# Render first, so a kustomize error is not hidden by the pipe into sed.
rendered=$("${KUBECTL:-kubectl}" kustomize "$here")
printf '%s\n' "$rendered" | sed -e "s|__TOLLGATE_PORT__|$port|g" -e "s|__TOLLGATE_CA_BUNDLE__|$bundle|g"
