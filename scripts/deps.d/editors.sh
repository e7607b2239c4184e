# The editor tests: headless Neovim; Emacs with eglot and go-mode; the VS Code
# extension's npm packages (playwright-core among them); and, for the VS Code
# end-to-end test, Debian's Chromium and code-server (VS Code in a browser).
apt_install neovim emacs-nox elpa-eglot elpa-go-mode chromium ripgrep \
	build-essential pkg-config python3 libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev
npm_ci editors/vscode

# code_server_install: installs code-server 4.99.4 (VS Code 1.99.3; the last
# release that runs on Node 20) with npm into
# ${FLASH_TOOLS_DIR:-~/.cache/flash-lsp/tools}/code-server-4.99.4, where
# editors/vscode/e2e/e2e.mjs looks for it. Its postinstall builds native
# modules (node-gyp against the machine's Node headers) and fetches ripgrep
# from GitHub, which these machines do not reach: @vscode/ripgrep looks in
# its download cache first, so Debian's rg is put there.
code_server_install() {
	local version=4.99.4 rg_version=1.15.11 # the @vscode/ripgrep of its VS Code
	local dir=${FLASH_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flash-lsp/tools}/code-server-$version
	[ -f "$dir/.installed" ] && [ -x "$dir/node_modules/.bin/code-server" ] && return 0
	local target
	case "$(uname -m)" in
	x86_64) target=x86_64-unknown-linux-musl ;;
	aarch64) target=aarch64-unknown-linux-musl ;;
	*) echo "code-server: no ripgrep target for $(uname -m)" >&2; return 1 ;;
	esac
	echo "installing code-server $version into $dir (npm; a minute or more)" >&2
	local cache
	cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-$rg_version"
	mkdir -p "$cache"
	tar -C "$(dirname "$(command -v rg)")" -czf "$cache/ripgrep-v13.0.0-10-$target.tar.gz" rg
	rm -rf "$dir"
	mkdir -p "$dir"
	echo '{"private":true}' >"$dir/package.json"
	local nodedir=()
	[ -f /usr/include/node/common.gypi ] && nodedir=(npm_config_nodedir=/usr)
	if ! (cd "$dir" && env npm_config_yes=true npm_config_unsafe_perm=true "${nodedir[@]}" \
		npm install --no-audit --no-fund "code-server@$version" >install.log 2>&1); then
		tail -n 40 "$dir/install.log" >&2
		echo "code-server: npm install failed; the whole log is $dir/install.log" >&2
		return 1
	fi
	if [ ! -x "$dir/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ]; then
		echo "code-server: installed without ripgrep; see $dir/install.log" >&2
		return 1
	fi
	touch "$dir/.installed"
}

code_server_install

