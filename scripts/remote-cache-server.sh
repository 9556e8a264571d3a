#!/usr/bin/env bash
# A remote cache server on 127.0.0.1, for tests/remote.rs, CI, the benchmarks and trying
# `ablate run --remote` on one machine: Debian's nginx with its WebDAV module (PUT, DELETE,
# MOVE), or `rclone serve webdav`, which writes an upload in place under its final name.
# Everything lives in DIR: the stored objects in DIR/data, the configuration, logs and pid.
#
#   scripts/remote-cache-server.sh install                  apt-get install nginx and rclone if missing (root)
#   scripts/remote-cache-server.sh start DIR PORT [--rclone] [--auth USER:PASSWORD]
#   scripts/remote-cache-server.sh stop DIR
#
# `start` returns once the server answers, or exits 1 with its log. With --auth every request
# needs that user and password (HTTP basic authentication).
set -euo pipefail

usage() {
    sed -n '7,9p' "$0" | sed 's/^# *//' >&2
    exit 2
}

install() {
    if command -v nginx >/dev/null && command -v rclone >/dev/null && command -v curl >/dev/null; then
        return
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "nginx or rclone is missing: run '$0 install' as root" >&2
        exit 1
    fi
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx rclone curl
}

start_nginx() {
    local dir=$1 port=$2 auth=$3 user_line="" auth_lines=""
    # Started as root, nginx's workers would switch to `nobody`, who cannot write DIR.
    if [ "$(id -u)" -eq 0 ]; then user_line="user root;"; fi
    if [ -n "$auth" ]; then
        printf '%s:{PLAIN}%s\n' "${auth%%:*}" "${auth#*:}" >"$dir/htpasswd"
        auth_lines="auth_basic \"ablate remote cache\"; auth_basic_user_file $dir/htpasswd;"
    fi
    cat >"$dir/nginx.conf" <<EOF
$user_line
daemon on;
worker_processes 2;
pid $dir/server.pid;
error_log $dir/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    sendfile on;
    server {
        listen 127.0.0.1:$port;
        root $dir/data;
        client_max_body_size 0;
        dav_methods PUT DELETE MKCOL COPY MOVE;
        create_full_put_path on;
        dav_access user:rw group:r all:r;
        $auth_lines
    }
}
EOF
    nginx -c "$dir/nginx.conf" -e "$dir/error.log" 2>>"$dir/error.log"
}

start_rclone() {
    local dir=$1 port=$2 auth=$3 args=()
    if [ -n "$auth" ]; then args=(--user "${auth%%:*}" --pass "${auth#*:}"); fi
    # stdin from /dev/null and the output to a file: the server outlives this script.
    setsid rclone serve webdav "$dir/data" --addr "127.0.0.1:$port" "${args[@]}" \
        </dev/null >>"$dir/error.log" 2>&1 &
    echo $! >"$dir/server.pid"
}

start() {
    [ $# -ge 2 ] || usage
    local dir port server=nginx auth=""
    dir=$(realpath -m "$1")
    port=$2
    shift 2
    while [ $# -gt 0 ]; do
        case $1 in
            --rclone) server=rclone ;;
            --auth) auth=$2; shift ;;
            *) usage ;;
        esac
        shift
    done
    command -v "$server" >/dev/null || { echo "$server is not installed: '$0 install' (as root)" >&2; exit 1; }
    mkdir -p "$dir/data"
    "start_$server" "$dir" "$port" "$auth"
    for _ in $(seq 100); do
        # Any HTTP answer (401 with --auth) means it serves.
        if curl -s -o /dev/null -m 1 "http://127.0.0.1:$port/"; then
            return
        fi
        sleep 0.1
    done
    echo "the $server remote cache server did not answer on 127.0.0.1:$port; its log:" >&2
    cat "$dir/error.log" >&2 || true
    exit 1
}

stop() {
    [ $# -ge 1 ] || usage
    local pidfile
    pidfile="$(realpath -m "$1")/server.pid"
    if [ -s "$pidfile" ]; then
        kill "$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile"
    fi
}

case ${1:-} in
    install) install ;;
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    *) usage ;;
esac
