package main

import "syscall"

// serverProcAttr puts a server that flash-lsp runs in its own process
// group (a terminal's Ctrl-C reaches flash-lsp only, which forwards it
// once, so the server sees one signal and drains) and has the kernel send
// it SIGTERM should flash-lsp die without forwarding anything (SIGKILL):
// no server outlives the command that started it.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
