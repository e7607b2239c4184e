//go:build !linux

package engine

import "syscall"

// goProcAttr is nil where the kernel cannot tie a child's life to its
// parent's.
func goProcAttr() *syscall.SysProcAttr { return nil }
