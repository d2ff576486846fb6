#!/usr/bin/env bash
# Installs what `make test` needs beyond the Go toolchain, and nothing when it
# is already there (prints nothing then):
#   - the npm test peers of package-lock.json (node_modules/), by `npm ci`,
#     again whenever package-lock.json changes;
#   - staticcheck at $STATICCHECK_VERSION in $(go env GOPATH)/bin, rebuilt when
#     the version or the Go toolchain changes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# staticcheck 2026.2.2; any release from 2025.1 on handles Go 1.26 code when
# built with Go 1.26, which `go install` here does.
STATICCHECK_VERSION=v0.8.2

log() { printf 'deps: %s\n' "$*" >&2; }

# --- npm peers -------------------------------------------------------------
command -v npm >/dev/null || { log "npm not found: install Node.js 20+ (with npm)"; exit 1; }
stamp=node_modules/.toolgate-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
if [[ ! -d node_modules || "$have" != "$want" ]]; then
  log "npm ci (node_modules missing or package-lock.json changed)"
  # No package in the lock has install scripts; --ignore-scripts keeps it so.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
  printf '%s\n' "$want" >"$stamp"
fi

# --- staticcheck -----------------------------------------------------------
gobin="$(go env GOPATH | cut -d: -f1)/bin"
sc="$gobin/staticcheck"
goversion=$(go env GOVERSION)
if [[ -x "$sc" ]] && info=$(go version -m "$sc" 2>/dev/null) &&
  [[ "$(awk '$1 == "mod" { print $3; exit }' <<<"$info")" == "$STATICCHECK_VERSION" ]] &&
  [[ "$(head -n1 <<<"$info" | awk '{ print $2 }')" == "$goversion" ]]; then
  :
else
  log "go install staticcheck@$STATICCHECK_VERSION (with $goversion)"
  GOBIN="$gobin" GOFLAGS=-buildvcs=false go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
