#!/usr/bin/env bash
# What the WordPress plugin adds to a visitor's form post, in one run per server, with the
# release daemon: N posts of the [echo5_form] shortcode form (default 200) for each of
#   - the same form without the plugin (plugin deactivated, a plain handler that redirects),
#   - a plain handler with the plugin active (the plugin's load on a request),
#   - the plugin with the daemon up, and
#   - the plugin with the daemon stopped (connections refused),
# interleaved in blocks so the machine's load drifts over all four alike; p50/p99 of the time
# to the 303 answer, as a browser's form post waits for it. Twice: on PHP's built-in server
# (the plugin's immediate send runs before the answer) and on nginx + PHP-FPM (after
# fastcgi_finish_request()). The site is wordpress/tests/run.py's (MariaDB, Debian's
# WordPress 6.1, PHP 8.2); .ci/wordpress.sh installs what it needs.
#
# usage: bench/wordpress.sh [posts per variant, default 200]
#        ECHO5D_BIN=/path/to/echo5d bench/wordpress.sh 200
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
target_dir="${CARGO_TARGET_DIR:-target}"
BIN=${ECHO5D_BIN:-$target_dir/release/echo5d}
[ -n "${ECHO5D_BIN:-}" ] || CARGO_INCREMENTAL=0 cargo build --release -q -p echo5d

ECHO5_WP_SETUP_ONLY=1 bash .ci/wordpress.sh
wp_root="${ECHO5_WP_CACHE:-/var/cache/echo5-ci}/wordpress-deb/usr/share/wordpress"
echo "bench: $N posts per variant, echo5d $BIN ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
for server in builtin fpm; do
  echo "bench: $([ "$server" = fpm ] && echo "nginx + PHP-FPM" || echo "PHP's built-in server")"
  "$target_dir/wp-venv/bin/python" wordpress/tests/run.py --wordpress "$wp_root" --daemon "$BIN" \
    --bench "$N" $([ "$server" = fpm ] && echo --fpm)
done
