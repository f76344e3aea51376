#!/usr/bin/env bash
# Installs what Rapport needs on a fresh Debian machine, and nothing twice:
#   - Debian packages: PostgreSQL 15, Redis 7, a JDK 17 and Maven (for Neo4j); the
#     failover drills (tests/drills) need nothing more: postgresql-15 brings pg_basebackup
#     and pg_ctl promote, and redis-server runs as a Sentinel with --sentinel; Chromium,
#     in which `make test` renders every email and compares it with its reference image;
#   - the Python virtualenv (.venv) from uv.lock, exactly as locked;
#   - Neo4j Community's jars, resolved by Maven into ~/.m2 and target/lib;
#   - kustomize, built with Go, for `make lint`'s check of deploy/kubernetes;
#   - clients/typescript's node_modules (openapi-typescript, TypeScript) from its
#     package-lock.json with `npm ci`, never globally, for `make client` and its test.
set -euo pipefail
cd "$(dirname "$0")/../.."

UV_VERSION=0.13.8
# The newest kustomize whose go.mod this machine's Go (1.26) accepts.
KUSTOMIZE_VERSION=v5.8.2
say() { printf '[install] %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_packages() {
    local wanted=(postgresql-15 postgresql-client-15 redis-server openjdk-17-jdk-headless maven chromium)
    local package
    for package in "${wanted[@]}"; do
        # A JDK or Maven that came with the machine (not from Debian) counts as present.
        case "$package" in
            openjdk-17-jdk-headless) command -v javac >/dev/null && continue ;;
            maven) command -v mvn >/dev/null && continue ;;
        esac
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
            || printf '%s ' "$package"
    done
}

install_system_packages() {
    local missing
    missing=$(missing_packages)
    [ -z "$missing" ] && return 0
    say "installing Debian packages: $missing"
    say "  (PostgreSQL is the system of record, Redis carries the job queue, the JDK and Maven run Neo4j,"
    say "   Chromium renders the emails in the tests)"
    [ "$(id -u)" -eq 0 ] || say "  this needs root: you may be asked for your sudo password"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}

install_python() {
    # uv lives in a tools venv of its own: `uv sync` removes from .venv whatever the
    # lock file does not list.
    local uv=.local/tools/bin/uv
    if [ ! -x "$uv" ] || ! "$uv" --version 2>/dev/null | grep -q "$UV_VERSION"; then
        say "installing uv $UV_VERSION into .local/tools"
        python3.11 -m venv .local/tools 2>/dev/null || python3 -m venv .local/tools
        .local/tools/bin/pip install -q --disable-pip-version-check "uv==$UV_VERSION"
    fi
    # --frozen: install exactly what uv.lock pins, never re-resolve.
    UV_PROJECT_ENVIRONMENT=.venv UV_PYTHON_DOWNLOADS=never "$uv" sync --frozen --quiet
}

install_neo4j() {
    local jars=deploy/local/neo4j/target/lib
    local launcher=deploy/local/neo4j/target/classes/rapport/Neo4jLauncher.class
    local source=deploy/local/neo4j/src/main/java/rapport/Neo4jLauncher.java
    if [ -f "$launcher" ] && [ "$launcher" -nt "$source" ] && [ -d "$jars" ] \
        && [ "$(find "$jars" -name '*.jar' | wc -l)" -gt 100 ]; then
        return 0
    fi
    say "resolving Neo4j Community 5.26 jars with Maven (cached in ~/.m2 for the next run)"
    mvn -q -B -f deploy/local/neo4j/pom.xml package -DskipTests
}

install_kustomize() {
    # From the Kustomize project's own module, checked against Go's checksum database:
    # Debian's kubectl (1.20) is years behind, and PyPI has only third-party repackagings.
    local kustomize=.local/tools/bin/kustomize go
    if [ -x "$kustomize" ] && [ "$("$kustomize" version 2>/dev/null)" = "$KUSTOMIZE_VERSION" ]; then
        return 0
    fi
    go=$(command -v go || echo /usr/local/go/bin/go)
    if [ ! -x "$go" ]; then
        say "Go 1.26 or newer is needed to build kustomize (make lint renders deploy/kubernetes)"
        exit 1
    fi
    say "building kustomize $KUSTOMIZE_VERSION into .local/tools/bin (a minute, once)"
    GOBIN="$PWD/.local/tools/bin" "$go" install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
}

install_typescript_tools() {
    # Again only when the lock changed since the last `npm ci` (its hash is kept beside).
    local folder=clients/typescript stamp=clients/typescript/node_modules/.lock-sha256 lock
    lock=$(sha256sum "$folder/package-lock.json" | cut -d' ' -f1)
    if [ -d "$folder/node_modules" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$lock" ]; then
        return 0
    fi
    if ! command -v npm >/dev/null; then
        say "Node.js 20 and npm are needed for clients/typescript (make client and its test)"
        exit 1
    fi
    say "installing clients/typescript's tools from package-lock.json (npm ci)"
    (cd "$folder" && npm ci --no-audit --no-fund --loglevel=error)
    printf '%s\n' "$lock" >"$stamp"
}

install_system_packages
install_python
install_neo4j
install_kustomize
install_typescript_tools
say "everything is installed"
