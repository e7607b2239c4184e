package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"syscall"

	"github.com/flash-lsp/flash-lsp/codegen"
)

// runAll is `flash-lsp run --all`: generate, build one binary serving
// every resource under /<dir> (codegen.AllMain) and run it on 127.0.0.1,
// printing every route with an example request.
func runAll(dir string, port int, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	host := codegen.Target{GOOS: goruntime.GOOS, GOARCH: goruntime.GOARCH}
	l, code := loadForCodegen(ctx, "run", dir, host, true, stderr)
	if l == nil {
		stop()
		return code
	}
	res, code := generateFiles(l, "run", stderr)
	if res == nil {
		stop()
		return code
	}
	if len(res.Handlers) == 0 {
		stop()
		fmt.Fprintln(stderr, "flash-lsp run --all: the module declares no resources")
		return 1
	}
	if _, err := res.Write(); err != nil {
		stop()
		fmt.Fprintf(stderr, "flash-lsp run: %v\n", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "flash-run-all-")
	if err != nil {
		stop()
		fmt.Fprintf(stderr, "flash-lsp run: %v\n", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "all")
	if err := codegen.CompileAll(ctx, res, bin, host); err != nil {
		stop()
		fmt.Fprintf(stderr, "flash-lsp run: %v\n", err)
		return 1
	}
	stop() // from here on, signals are forwarded to the server

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	banner := fmt.Sprintf("✓ Serving %s on %s (Ctrl-C to stop)\n%s", count(len(res.Handlers), "resource", "resources"), base, codegen.RouteTable(res, base))
	return serveBinary(bin, res.Root, []string{"HOST=127.0.0.1", fmt.Sprintf("PORT=%d", port)}, "run --all", banner, stdout, stderr)
}

// serveBinary runs a server binary in its own process group, prints
// banner once it started, forwards SIGINT and SIGTERM to it once each,
// and returns its exit code.
func serveBinary(bin, dir string, env []string, name, banner string, stdout, stderr io.Writer) int {
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	// Its own process group: a terminal's Ctrl-C reaches flash-lsp only,
	// which forwards it once, so the server sees one signal and drains.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "flash-lsp %s: %v\n", name, err)
		return 1
	}
	fmt.Fprint(stderr, banner)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		case err := <-done:
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				if st, ok := exit.Sys().(syscall.WaitStatus); ok && st.Signaled() {
					fmt.Fprintf(stderr, "flash-lsp %s: stopped by %v\n", name, st.Signal())
					return 1
				}
				return exit.ExitCode()
			}
			if err != nil {
				fmt.Fprintf(stderr, "flash-lsp %s: %v\n", name, err)
				return 1
			}
			return 0
		}
	}
}
