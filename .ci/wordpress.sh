#!/usr/bin/env bash
# The WordPress plugin's gates: php -l on every file, PHP_CodeSniffer with the ruleset in
# wordpress/phpcs.xml, then the end-to-end tests (wordpress/tests/run.py): a real WordPress
# on MariaDB with the plugin active, served by PHP's built-in server and then by nginx +
# PHP-FPM, the real echo5d, and a visitor in headless Chromium.
#
# Installs what it needs from Debian when missing (as root on a fresh Debian 12 machine):
# php (cli, mysql, curl, mbstring, xml, fpm), nginx-light, mariadb-server, chromium +
# chromium-driver, php-codesniffer; WordPress itself and its default theme are taken from
# Debian's packages without installing them (their dependencies would bring Apache),
# unpacked into $ECHO5_WP_CACHE (default /var/cache/echo5-ci). Selenium comes from PyPI into
# a venv under target/. Prints what it does; each step is skipped when already done.
# ECHO5_WP_SETUP_ONLY=1 stops after that setup (bench/wordpress.sh uses it).
set -euo pipefail
cd "$(dirname "$0")/.."

SELENIUM_VERSION=4.27.1
cache="${ECHO5_WP_CACHE:-/var/cache/echo5-ci}"
target_dir="${CARGO_TARGET_DIR:-target}"
venv="$target_dir/wp-venv"
started=$(date +%s)

packages=(php-cli php-mysql php-curl php-mbstring php-xml php-fpm nginx-light mariadb-server
  mariadb-client chromium chromium-driver php-codesniffer python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "wordpress: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  }
else
  echo "wordpress: Debian packages present (${packages[*]})"
fi

wp_root="$cache/wordpress-deb"
if [ ! -f "$wp_root/usr/share/wordpress/wp-load.php" ] ||
  [ ! -f "$wp_root/usr/share/wordpress/wp-content/themes/twentytwentythree/style.css" ]; then
  echo "wordpress: unpacking Debian's wordpress and wordpress-theme-twentytwentythree into $wp_root"
  rm -rf "$wp_root" "$cache/debs"
  mkdir -p "$wp_root" "$cache/debs"
  # apt's sandbox user must be able to write where the .deb lands.
  chmod 777 "$cache/debs"
  (cd "$cache/debs" && { apt-get download wordpress wordpress-theme-twentytwentythree >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get download wordpress wordpress-theme-twentytwentythree >/dev/null; }; })
  for deb in "$cache"/debs/*.deb; do dpkg-deb -x "$deb" "$wp_root"; done
  rm -rf "$cache/debs"
fi
# Debian places the theme beside its wp-content in /usr/share/wordpress.
echo "wordpress: $(grep -m1 "wp_version = " "$wp_root/usr/share/wordpress/wp-includes/version.php")"

if ! "$venv/bin/python" -c "import selenium, sys; sys.exit(selenium.__version__ != '$SELENIUM_VERSION')" 2>/dev/null; then
  echo "wordpress: selenium $SELENIUM_VERSION into $venv"
  rm -rf "$venv"
  mkdir -p "$target_dir"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "selenium==$SELENIUM_VERSION"
fi

# bench/wordpress.sh needs the same site parts and nothing else.
if [ -n "${ECHO5_WP_SETUP_ONLY:-}" ]; then
  echo "wordpress: setup done in $(($(date +%s) - started)) s"
  exit 0
fi

echo "wordpress: php -l"
lint_failed=0
while IFS= read -r -d '' f; do
  php -l "$f" >/dev/null || { echo "php -l failed: $f"; lint_failed=1; }
done < <(find wordpress -name '*.php' -print0)
[ "$lint_failed" = 0 ]

echo "wordpress: phpcs --standard=wordpress/phpcs.xml"
phpcs --standard=wordpress/phpcs.xml -q
# The repository's own sniffs must refuse each fixture with every code its .expected lists:
# unsafe.php (escaping, nonces, SQL), php82.php (PHP 8.2 syntax that `php -l` here accepts
# but the plugin's PHP 8.1 cannot run) and newer-syntax.inc (8.3/8.4 syntax, which PHP 8.2
# cannot parse, so it is not a .php file).
for expected in wordpress/tests/phpcs-fixtures/*.expected; do
  fixture="${expected%.expected}.php"
  [ -f "$fixture" ] || fixture="${expected%.expected}.inc"
  report=$(phpcs --standard=wordpress/phpcs/Echo5WP --extensions=php,inc --report=emacs -s "$fixture" || true)
  while IFS= read -r code; do
    grep -q "($code)" <<<"$report" || { echo "phpcs: $code not reported for $fixture"; echo "$report"; exit 1; }
  done <"$expected"
  echo "wordpress: $(basename "$fixture") is refused with $(wc -l <"$expected") sniff codes"
done

echo "wordpress: i18n (every string in the .pot, with the text domain)"
python3 wordpress/tests/i18n_check.py

echo "wordpress: cargo build -p echo5d"
CARGO_INCREMENTAL=0 cargo build -q -p echo5d

echo "wordpress: setup took $(($(date +%s) - started)) s"
# Twice: on PHP's built-in server (the plugin sends before the visitor's answer) and on
# nginx + PHP-FPM (it sends after fastcgi_finish_request), the two paths a site may take.
for server in builtin fpm; do
  echo "wordpress: end-to-end tests on the $server server"
  "$venv/bin/python" wordpress/tests/run.py --wordpress "$wp_root/usr/share/wordpress" \
    --daemon "$target_dir/debug/echo5d" $([ "$server" = fpm ] && echo --fpm) "$@"
done
echo "wordpress: done in $(($(date +%s) - started)) s"
