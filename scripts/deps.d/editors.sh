# The editor tests: headless Neovim, Emacs with eglot and go-mode, and the
# VS Code extension's npm packages.
apt_install neovim emacs-nox elpa-eglot elpa-go-mode
npm_ci editors/vscode
