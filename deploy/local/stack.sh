#!/usr/bin/env bash
# Starts and stops Rapport's local stack as plain processes (there is no Docker here).
#
#   stack.sh up [--infra]   start everything (or only the stores) in the background
#   stack.sh run            start everything, follow the logs, stop all on Ctrl-C
#   stack.sh down           stop everything this stack started
#   stack.sh status         what runs, where
#   stack.sh exec CMD...    run CMD with the stack's settings in the environment
#   stack.sh start|stop|restart NAME [--immediate]   one part (postgres, redis, neo4j,
#                           mail, graph, api, notifier); --immediate stops postgres
#                           without a checkpoint, as a crash would
#   stack.sh kill NAME      SIGKILL one part's main process (a fault drill)
#   stack.sh import-offline csv MEMBERS_CSV CONNECTIONS_CSV | ldbc DIR
#                           the initial load of a large network: stop Neo4j, replace its
#                           database with neo4j-admin's import, start it, create the schema
#
# Every process but postgres and redis runs under a small supervisor loop (this script's
# `supervise`) that leads its own process group: when the process dies it is restarted
# (after 1 s, backing off to 30 s if it keeps dying), and whatever it left behind in the
# group (a killed uvicorn master's workers) is killed first. `status` names dead and
# orphaned parts; `up`, `start`, `stop` and `down` clean orphans up, found by process
# group and by the RAPPORT_PART=<stack>:<name> marker in their environment.
#
# RAPPORT_STACK=dev (default), test or test2 to test7 picks the ports (shifted by 0, 10000,
# 20000, 40000, 50000, 5000, 15000, 25000) and the state folder (.local/<stack>), so tests never touch the dev data.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$ROOT"

STACK=${RAPPORT_STACK:-dev}
STATE="$ROOT/.local/$STACK"
RUN="$STATE/run"
LOGS="$STATE/log"
PGBIN=/usr/lib/postgresql/15/bin
VENV="$ROOT/.venv/bin"

say() { printf '[%s] %s\n' "$STACK" "$*"; }
die() { printf '[%s] ERROR: %s\n' "$STACK" "$*" >&2; exit 1; }

# ---- settings: deploy/stack.env, with the test stack's ports shifted by 10000 ----
load_settings() {
    set -a
    # shellcheck source=../stack.env
    . "$ROOT/deploy/stack.env"
    set +a
    local offset
    case "$STACK" in
        dev) offset=0 ;;
        test) offset=10000 ;;
        test2) offset=20000 ;;  # more test stacks, for running suites side by side
        test3) offset=40000 ;;
        test4) offset=50000 ;;
        test5) offset=5000 ;;
        test6) offset=15000 ;;
        test7) offset=25000 ;;
        bench) offset=30000 ;;  # make bench: its own data, sized for the benchmark
        *) die "unknown RAPPORT_STACK=$STACK (dev, test, test2 to test7, or bench)" ;;
    esac
    if [ "$offset" -gt 0 ]; then
        [ "$STACK" = bench ] || export RAPPORT_ENVIRONMENT=test
        export RAPPORT_POSTGRES__PORT=$((5432 + offset)) RAPPORT_REDIS__PORT=$((6379 + offset))
        export RAPPORT_NEO4J__URI=bolt://127.0.0.1:$((7687 + offset))
        export RAPPORT_SMTP__PORT=$((1025 + offset)) RAPPORT_MAILBOX__PORT=$((8025 + offset))
        export RAPPORT_API__PORT=$((8000 + offset)) RAPPORT_GRAPH__PORT=$((8001 + offset))
        export RAPPORT_NOTIFIER__PORT=$((8002 + offset))
        export RAPPORT_GRAPH__URL=http://127.0.0.1:$((8001 + offset))
    fi
    export RAPPORT_MAILBOX__FOLDER="$STATE/mail"
    export RAPPORT_API__PUBLIC_URL="http://127.0.0.1:$RAPPORT_API__PORT"
    BOLT_PORT=${RAPPORT_NEO4J__URI##*:}
    mkdir -p "$RUN" "$LOGS" "$STATE/mail"
    env | grep '^RAPPORT_' | sort > "$STATE/env"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # wait_for NAME SECONDS COMMAND...
    local name=$1 deadline=$((SECONDS + $2)); shift 2
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || die "$name did not become ready in time; see $LOGS/$name.log"
        sleep 0.5
    done
}

# A process counts as alive only if it exists and is not a zombie waiting to be reaped.
proc_alive() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
pid_alive() { [ -f "$RUN/$1.pid" ] && proc_alive "$(cat "$RUN/$1.pid")"; }
postgres_alive() { [ -f "$1/postmaster.pid" ] && proc_alive "$(head -n1 "$1/postmaster.pid")"; }

# ---- finding processes without forking (a subshell would find itself) ----
# in_group PGID: live processes of that process group, except the caller.
in_group() {
    local PGID=$1 self=$BASHPID stat line pid
    for stat in /proc/[0-9]*/stat; do
        read -r line < "$stat" 2>/dev/null || continue
        pid=${stat#/proc/}; pid=${pid%/stat}
        # shellcheck disable=SC2086
        set -- ${line##*) }  # state ppid pgrp ...
        [ "$1" != Z ] && [ "$3" = "$PGID" ] && [ "$pid" != "$self" ] && [ "$pid" != "$$" ] && echo "$pid"
    done
    return 0
}

# marked NAME: our processes carrying this stack's marker for NAME (orphans whose pid
# file is gone, or that left their group).
marked() {
    local self=$BASHPID environ pid var
    for environ in /proc/[0-9]*/environ; do
        pid=${environ#/proc/}; pid=${pid%/environ}
        [ "$pid" = "$self" ] || [ "$pid" = "$$" ] && continue
        [ -O "$environ" ] || continue
        while IFS= read -r -d '' var; do
            if [ "$var" = "RAPPORT_PART=$STACK:$1" ]; then proc_alive "$pid" && echo "$pid"; break; fi
        done 2>/dev/null < "$environ" || true
    done
    return 0
}

port_holder() { ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2 || true; }

# leftovers NAME: processes of NAME still running without a live supervisor.
leftovers() {
    local name=$1 pgid=
    [ -f "$RUN/$name.pid" ] && pgid=$(cat "$RUN/$name.pid")
    if [ -n "$pgid" ] && proc_alive "$pgid"; then return 0; fi  # supervised: nothing left over
    { if [ -n "$pgid" ]; then in_group "$pgid"; fi; marked "$name"; } | sort -un
    return 0
}

kill_all() {  # kill_all PID...: TERM, up to GRACE seconds (10), then KILL
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null || true
    for _ in $(seq $((${GRACE:-10} * 2))); do
        local alive=0 pid
        for pid in "$@"; do proc_alive "$pid" && alive=1; done
        [ "$alive" = 0 ] && return 0
        sleep 0.5
    done
    kill -KILL "$@" 2>/dev/null || true
}

clean_leftovers() {
    local name=$1 pids
    pids=$(leftovers "$name" | tr '\n' ' ')
    if [ -n "${pids// /}" ]; then
        say "$name: stopping orphaned processes left by a dead supervisor or master: $pids"
        # shellcheck disable=SC2086
        kill_all $pids
    fi
}

# ---- the supervisor: runs COMMAND, restarts it when it dies ----
supervise() {  # supervise NAME COMMAND... (started by start_process, leads its own group)
    local name=$1 child= status started pause=1 restarts=0 stopping=
    shift
    trap 'stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT HUP
    while :; do
        started=$SECONDS
        # The uvicorn workers of the API and the graph service add up their metrics in
        # a folder of their own (rapport_common/metrics.py), emptied at every start so
        # no count outlives the processes that made it.
        if [ "$name" = api ] || [ "$name" = graph ]; then
            export PROMETHEUS_MULTIPROC_DIR="$RUN/metrics-$name"
            rm -rf "$PROMETHEUS_MULTIPROC_DIR"
        fi
        "$@" &
        child=$!
        echo "$child" > "$RUN/$name.child"
        status=0
        while proc_alive "$child"; do wait "$child" && status=0 || status=$?; done
        [ -n "$stopping" ] && break
        restarts=$((restarts + 1))
        echo "$restarts" > "$RUN/$name.restarts"
        [ $((SECONDS - started)) -ge 30 ] && pause=1
        say "supervisor: $name (pid $child) exited with status $status after $((SECONDS - started)) s; restarting it in $pause s (restart $restarts)"
        # What the dead process left in the group (a killed uvicorn master's workers still
        # holding the port) must go before the next one starts; briefly, since
        # multiprocessing's resource tracker ignores SIGTERM.
        # shellcheck disable=SC2046
        GRACE=2 kill_all $(in_group "$$")
        sleep "$pause" & wait $! || true
        [ -n "$stopping" ] && break
        pause=$((pause * 2 > 30 ? 30 : pause * 2))
    done
    # shellcheck disable=SC2046
    kill_all $(in_group "$$")
    rm -f "$RUN/$name.child"
    say "supervisor: $name stopped"
}

start_process() {  # start_process NAME PORT COMMAND...
    local name=$1 port=$2 holder; shift 2
    if pid_alive "$name"; then say "$name already running (pid $(cat "$RUN/$name.pid"))"; return 0; fi
    clean_leftovers "$name"
    if [ -f "$RUN/$name.pid" ]; then say "removing stale pid file of $name"; rm -f "$RUN/$name.pid"; fi
    if [ "$port" != - ] && port_open "$port"; then
        holder=$(port_holder "$port")
        die "port $port, which $name needs, is taken by another program${holder:+ (pid $holder: $(tr '\0' ' ' < "/proc/$holder/cmdline" 2>/dev/null | cut -c1-120))}; stop it or change RAPPORT_* ports in deploy/stack.env"
    fi
    : > "$LOGS/$name.log"
    rm -f "$RUN/$name.restarts" "$RUN/$name.child"
    RAPPORT_PART="$STACK:$name" setsid bash "$SELF" supervise "$name" "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null &
    echo $! > "$RUN/$name.pid"
}

stop_process() {
    local name=$1 pid=
    [ -f "$RUN/$name.pid" ] && pid=$(cat "$RUN/$name.pid")
    if [ -n "$pid" ] && proc_alive "$pid"; then
        # The whole group: the supervisor, the process and its children (uvicorn workers).
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 60); do proc_alive "$pid" || break; sleep 0.5; done
        if proc_alive "$pid"; then
            say "$name did not stop in 30 s; killing it"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
        say "$name stopped"
    fi
    clean_leftovers "$name"
    rm -f "$RUN/$name.pid" "$RUN/$name.child"
}

# ---- PostgreSQL 15, run as the postgres user (it refuses root) ----
pg_data_dir() {
    # The postgres user must be able to reach the data folder; a checkout under a
    # private home directory is not reachable, so the cluster then lives beside
    # PostgreSQL's own data.
    if [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -x "$STATE" 2>/dev/null; then
        echo "$STATE/postgres"
    else
        echo "/var/lib/postgresql/rapport-$(echo "$ROOT" | md5sum | cut -c1-8)-$STACK"
    fi
}

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_postgres() {
    [ -x "$PGBIN/pg_ctl" ] || die "PostgreSQL 15 is not installed; run 'make install'"
    local data sock port=$RAPPORT_POSTGRES__PORT
    data=$(pg_data_dir); sock="$RUN/pgsock"
    mkdir -p "$data" "$sock"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data" "$sock" && chmod 700 "$data"
    if [ ! -f "$data/PG_VERSION" ]; then
        say "creating a PostgreSQL cluster in $data"
        as_postgres "$PGBIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256 > "$LOGS/postgres-initdb.log"
    fi
    if postgres_alive "$data"; then
        say "postgres already running on 127.0.0.1:$port"
    else
        if [ -f "$data/postmaster.pid" ]; then
            say "removing stale postmaster.pid left by a killed run"; rm -f "$data/postmaster.pid"
        fi
        port_open "$port" && die "port $port, which postgres needs, is taken by another program"
        [ "$(id -u)" -eq 0 ] && touch "$LOGS/postgres.log" && chown postgres "$LOGS/postgres.log"
        as_postgres "$PGBIN/pg_ctl" -D "$data" -l "$LOGS/postgres.log" -w -t 60 -o \
            "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$sock -c fsync=on" \
            start > /dev/null || die "postgres did not start; see $LOGS/postgres.log"
    fi
    echo "$data" > "$RUN/postgres.datadir"
    local psql=(as_postgres psql -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
    if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = '$RAPPORT_POSTGRES__USER'")" ]; then
        "${psql[@]}" -c "CREATE ROLE \"$RAPPORT_POSTGRES__USER\" LOGIN CREATEDB PASSWORD '$RAPPORT_POSTGRES__PASSWORD'"
    fi
    if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$RAPPORT_POSTGRES__DATABASE'")" ]; then
        "${psql[@]}" -c "CREATE DATABASE \"$RAPPORT_POSTGRES__DATABASE\" OWNER \"$RAPPORT_POSTGRES__USER\""
    fi
    say "postgres ready on 127.0.0.1:$port"
}

stop_postgres() {  # stop_postgres [--immediate]
    local data mode=fast
    [ "${1:-}" = --immediate ] && mode=immediate
    [ -f "$RUN/postgres.datadir" ] || return 0
    data=$(cat "$RUN/postgres.datadir")
    if postgres_alive "$data"; then
        as_postgres "$PGBIN/pg_ctl" -D "$data" -m "$mode" -w stop > /dev/null && say "postgres stopped ($mode)"
    fi
}

# ---- Redis 7: the job queue, so durable (AOF) and never evicting ----
start_redis() {
    command -v redis-server > /dev/null || die "Redis is not installed; run 'make install'"
    local port=$RAPPORT_REDIS__PORT
    if pid_alive redis; then say "redis already running on 127.0.0.1:$port"; return 0; fi
    rm -f "$RUN/redis.pid"
    port_open "$port" && die "port $port, which redis needs, is taken by another program"
    mkdir -p "$STATE/redis"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$STATE/redis" \
        --appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
        --daemonize yes --pidfile "$RUN/redis.pid" --logfile "$LOGS/redis.log"
    wait_for redis 30 redis-cli -p "$port" ping > /dev/null
    say "redis ready on 127.0.0.1:$port"
}

stop_redis() {
    pid_alive redis || return 0
    redis-cli -p "$RAPPORT_REDIS__PORT" shutdown > /dev/null 2>&1 || stop_process redis
    for _ in $(seq 40); do pid_alive redis || break; sleep 0.25; done
    rm -f "$RUN/redis.pid"; say "redis stopped"
}

# ---- Neo4j Community 5.26, embedded behind Bolt by a small Java launcher ----
start_neo4j() {
    local lib="$ROOT/deploy/local/neo4j/target"
    [ -d "$lib/lib" ] || die "Neo4j jars are missing; run 'make install'"
    if pid_alive neo4j; then say "neo4j already running on 127.0.0.1:$BOLT_PORT"; return 0; fi
    NEO4J_HOME="$STATE/neo4j" NEO4J_BOLT_PORT="$BOLT_PORT" \
        NEO4J_PAGECACHE_MB="${NEO4J_PAGECACHE_MB:-512}" \
        start_process neo4j "$BOLT_PORT" java -Xms512m "-Xmx${NEO4J_HEAP:-1g}" -XX:+UseG1GC \
        -cp "$lib/classes:$lib/lib/*" rapport.Neo4jLauncher
}

# ---- everything ----
migrate() {
    say "applying migrations"
    "$VENV/alembic" upgrade head > "$LOGS/migrations.log" 2>&1 \
        || { cat "$LOGS/migrations.log" >&2; die "migrations failed"; }
}

http_ready() { "$VENV/python" -c "import sys, urllib.request as u; sys.exit(0 if u.urlopen('$1', timeout=2).status == 200 else 1)" 2>/dev/null; }
log_says() { grep -q "$2" "$LOGS/$1.log" 2>/dev/null || { pid_alive "$1" || die "$1 exited; see $LOGS/$1.log"; return 1; }; }

start_graph() {
    start_process graph "$RAPPORT_GRAPH__PORT" "$VENV/uvicorn" services.graph.main:build --factory \
        --host 127.0.0.1 --port "$RAPPORT_GRAPH__PORT" --no-access-log \
        --workers "${RAPPORT_GRAPH__WORKERS:-2}"
}
start_api() {
    start_process api "$RAPPORT_API__PORT" "$VENV/uvicorn" services.api.main:build --factory \
        --host 127.0.0.1 --port "$RAPPORT_API__PORT" --no-access-log \
        --workers "${RAPPORT_API__WORKERS:-2}"
}
start_notifier() { start_process notifier "$RAPPORT_NOTIFIER__PORT" "$VENV/python" -m services.notifier; }

up() {
    local infra_only=${1:-}
    start_postgres
    start_redis
    start_neo4j
    start_process mail "$RAPPORT_SMTP__PORT" "$VENV/python" deploy/local/mailcatcher.py
    wait_for neo4j 180 log_says neo4j "NEO4J READY"
    say "neo4j ready on bolt://127.0.0.1:$BOLT_PORT"
    wait_for mail 30 log_says mail "mailcatcher ready"
    say "mail catcher ready: SMTP 127.0.0.1:$RAPPORT_SMTP__PORT, inbox http://127.0.0.1:$RAPPORT_MAILBOX__PORT"
    migrate
    [ "$infra_only" = --infra ] && return 0
    start_graph
    start_api
    start_notifier
    wait_for graph 60 http_ready "http://127.0.0.1:$RAPPORT_GRAPH__PORT/readyz"
    wait_for api 60 http_ready "http://127.0.0.1:$RAPPORT_API__PORT/readyz"
    wait_for notifier 60 http_ready "http://127.0.0.1:$RAPPORT_NOTIFIER__PORT/readyz"
    say "api, graph and notifier ready"
    if [ "$STACK" = dev ]; then "$VENV/python" -m services.demo; fi
    banner
}

down() {
    for name in notifier api graph mail neo4j; do stop_process "$name"; done
    stop_redis
    stop_postgres
}

banner() {
    cat <<MSG

  Rapport is running.
    API docs      http://127.0.0.1:$RAPPORT_API__PORT/docs
    graph service http://127.0.0.1:$RAPPORT_GRAPH__PORT/docs (internal)
    notifier      http://127.0.0.1:$RAPPORT_NOTIFIER__PORT/readyz (worker health)
    caught mail   http://127.0.0.1:$RAPPORT_MAILBOX__PORT  (files in $STATE/mail)
    logs          $LOGS
  Sign in as a demo member: POST /v1/auth/token with username=ada@demo.rapport.example
  and password=demo-password-1 (or use "Authorize" in the API docs).
  Find someone: GET /v1/members?q=grace, then POST /v1/invitations to_member_id=...

MSG
}

part_port() {
    case $1 in
        postgres) echo "$RAPPORT_POSTGRES__PORT" ;; redis) echo "$RAPPORT_REDIS__PORT" ;;
        neo4j) echo "$BOLT_PORT" ;; mail) echo "$RAPPORT_SMTP__PORT" ;;
        graph) echo "$RAPPORT_GRAPH__PORT" ;; api) echo "$RAPPORT_API__PORT" ;;
        notifier) echo "$RAPPORT_NOTIFIER__PORT" ;;
    esac
}

status() {  # one line per part; exits 1 if any part is dead, restarting or orphaned
    local name line problems=0 port holder data child restarts orphans
    for name in postgres redis neo4j mail graph api notifier; do
        port=$(part_port "$name")
        if [ "$name" = postgres ]; then
            data=$(cat "$RUN/postgres.datadir" 2>/dev/null || echo -)
            if postgres_alive "$data"; then line="running (pid $(head -n1 "$data/postmaster.pid"))"
            elif [ -f "$data/postmaster.pid" ]; then line="dead (stale postmaster.pid)"; problems=1
            else line=stopped; fi
        elif [ "$name" = redis ]; then
            if pid_alive redis; then line="running (pid $(cat "$RUN/redis.pid"))"
            elif [ -f "$RUN/redis.pid" ]; then line="dead (stale pid file)"; problems=1
            else line=stopped; fi
        else
            orphans=$(leftovers "$name" | tr "\n" " " | sed "s/ $//")
            child=$(cat "$RUN/$name.child" 2>/dev/null || true)
            restarts=$(cat "$RUN/$name.restarts" 2>/dev/null || echo 0)
            if pid_alive "$name"; then
                if [ -f "$RUN/$name.child" ] && ! proc_alive "$child"; then
                    line="restarting (supervisor pid $(cat "$RUN/$name.pid"); restarted $restarts times)"; problems=1
                elif [ -f "$RUN/$name.child" ]; then
                    line="running (pid $child, supervisor pid $(cat "$RUN/$name.pid"), restarted $restarts times)"
                else
                    line="running (pid $(cat "$RUN/$name.pid"), unsupervised)"
                fi
            elif [ -n "${orphans// /}" ]; then
                line="orphaned: pids $orphans still run without their supervisor or master; 'down' or 'up' cleans them up"; problems=1
            elif [ -f "$RUN/$name.pid" ]; then line="dead (stale pid file)"; problems=1
            else line=stopped; fi
        fi
        case $line in
            running*) ;;
            *) if port_open "$port"; then
                   holder=$(port_holder "$port")
                   line="$line; port $port is taken${holder:+ by pid $holder ($(tr '\0' ' ' < "/proc/$holder/cmdline" 2>/dev/null | cut -c1-80))}"
               fi ;;
        esac
        echo "$name: $line"
    done
    return "$problems"
}

# ---- one part at a time (fault drills, tests) ----
start_part() {
    case $1 in
        postgres) start_postgres ;;
        redis) start_redis ;;
        neo4j) start_neo4j; wait_for neo4j 180 port_open "$BOLT_PORT"; say "neo4j answers on bolt://127.0.0.1:$BOLT_PORT" ;;
        mail) start_process mail "$RAPPORT_SMTP__PORT" "$VENV/python" deploy/local/mailcatcher.py
              wait_for mail 30 port_open "$RAPPORT_SMTP__PORT" ;;
        # Serving is enough here: readiness also needs the other parts, which `up` starts.
        graph|api|notifier) "start_$1"; wait_for "$1" 60 http_ready "http://127.0.0.1:$(part_port "$1")/livez"
              say "$1 serving on 127.0.0.1:$(part_port "$1")" ;;
        *) die "unknown part '$1' (postgres, redis, neo4j, mail, graph, api, notifier)" ;;
    esac
}

stop_part() {
    case $1 in
        postgres) stop_postgres "${2:-}" ;;
        redis) stop_redis ;;
        neo4j|mail|graph|api|notifier) stop_process "$1" ;;
        *) die "unknown part '$1' (postgres, redis, neo4j, mail, graph, api, notifier)" ;;
    esac
}

kill_part() {  # SIGKILL the part's main process, not its supervisor: what a crash does
    local pid=
    case $1 in
        postgres) pid=$(head -n1 "$(cat "$RUN/postgres.datadir")/postmaster.pid" 2>/dev/null || true) ;;
        redis) pid=$(cat "$RUN/redis.pid" 2>/dev/null || true) ;;
        neo4j|mail|graph|api|notifier) pid=$(cat "$RUN/$1.child" 2>/dev/null || cat "$RUN/$1.pid" 2>/dev/null || true) ;;
        *) die "unknown part '$1' (postgres, redis, neo4j, mail, graph, api, notifier)" ;;
    esac
    [ -n "$pid" ] && proc_alive "$pid" || die "$1 is not running"
    kill -KILL "$pid"
    say "$1 (pid $pid) killed with SIGKILL"
}

# ---- the initial load of a large network, offline (docs/graph.md, "Offline import") ----
import_offline() {  # import_offline csv MEMBERS CONNECTIONS | ldbc DIR
    [ $# -ge 2 ] || die "import-offline csv MEMBERS_CSV CONNECTIONS_CSV | ldbc DIR"
    # The input is converted while neo4j still serves the old graph; the import stops it
    # (neo4j-admin writes the stopped database's files itself) only then.
    say "converting the input for neo4j-admin; neo4j is stopped once that is done"
    local status=0
    "$VENV/rapport" import "$@" --offline "$STATE/neo4j" --yes \
        --stop-first "bash $ROOT/deploy/local/stack.sh stop neo4j" || status=$?
    # Started again whatever happened (unless the conversion failed first and it never
    # stopped): a failed import leaves the previous database.
    start_neo4j
    wait_for neo4j 300 log_says neo4j "NEO4J READY"
    say "neo4j ready on bolt://127.0.0.1:$BOLT_PORT"
    [ "$status" = 0 ] || die "the offline import failed (status $status); neo4j runs with the database it had"
    "$VENV/rapport" graph schema
}

load_settings
case "${1:-}" in
    up) up "${2:-}" ;;
    down) down ;;
    status) status ;;
    run)
        follower=
        trap 'echo; say "stopping"; [ -n "$follower" ] && kill "$follower" 2>/dev/null; down; exit 0' INT TERM
        up
        say "following the logs; Ctrl-C stops everything"
        tail -n 0 -F "$LOGS/api.log" "$LOGS/graph.log" "$LOGS/notifier.log" &
        follower=$!
        wait
        ;;
    exec) shift; exec "$@" ;;
    start) start_part "${2:?which part?}" ;;
    stop) stop_part "${2:?which part?}" "${3:-}" ;;
    restart) stop_part "${2:?which part?}" "${3:-}"; start_part "$2" ;;
    kill) kill_part "${2:?which part?}" ;;
    import-offline) shift; import_offline "$@" ;;
    supervise) shift; supervise "$@" ;;
    *) sed -n '2,27p' "$0"; exit 2 ;;
esac
