package engine

import "syscall"

// goProcAttr has the kernel kill a go command the engine started should
// flash-lsp exit first (an editor stopping the server mid-load): a go list
// that outlives its reader only keeps compiling and writing caches.
func goProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
