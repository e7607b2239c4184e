# Helpers for scripts/deps.d/*.sh (sourced by scripts/deps.sh).

if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
apt_updated=

# apt_install PKG...: installs the Debian packages that are not installed yet.
apt_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing ${missing[*]} (apt-get)" >&2
	# flock: several installers (or test runs) may start at once; apt takes
	# its own locks and fails instead of waiting for them.
	if [ -z "$apt_updated" ]; then
		$SUDO flock /tmp/flash-lsp-apt.lock apt-get update -qq >/dev/null
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive $SUDO flock /tmp/flash-lsp-apt.lock \
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# npm_ci DIR: npm ci in DIR when node_modules is missing or older than the lockfile.
npm_ci() {
	local dir=$1 lock=$1/package-lock.json
	[ -f "$lock" ] || return 0
	if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$lock" -nt "$dir/node_modules/.package-lock.json" ]; then
		echo "installing the npm packages of $dir" >&2
		(cd "$dir" && npm ci --no-audit --no-fund >/dev/null)
	fi
}
