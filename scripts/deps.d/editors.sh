# The editor tests: headless Neovim and the VS Code extension's npm packages.
apt_install neovim
npm_ci editors/vscode
