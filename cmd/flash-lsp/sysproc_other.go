//go:build unix && !linux

package main

import "syscall"

// serverProcAttr puts a server that flash-lsp runs in its own process
// group: a terminal's Ctrl-C reaches flash-lsp only, which forwards it
// once, so the server sees one signal and drains.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
