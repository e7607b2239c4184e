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
	return serveLocal(dir, port, localServer{
		name: "run --all",
		tmp:  "flash-run-all-",
		pick: func(res *codegen.Result) int {
			if len(res.Handlers) == 0 {
				fmt.Fprintln(stderr, "flash-lsp run --all: the module declares no resources")
				return 1
			}
			return 0
		},
		compile: func(ctx context.Context, res *codegen.Result, tmp string, host codegen.Target) (string, string, error) {
			bin := filepath.Join(tmp, "all")
			base := fmt.Sprintf("http://127.0.0.1:%d", port)
			banner := fmt.Sprintf("✓ Serving %s on %s (Ctrl-C to stop)\n%s", count(len(res.Handlers), "resource", "resources"), base, codegen.RouteTable(res, base))
			return bin, banner, codegen.CompileAll(ctx, res, bin, host)
		},
	}, stdout, stderr)
}

// localServer is what `run RESOURCE` and `run --all` do differently.
type localServer struct {
	name string // the command in messages: "run" or "run --all"
	tmp  string // prefix of the temporary directory of the binary
	// pick checks the generated project before anything is written: it
	// returns 0, or an exit code after saying why not.
	pick func(res *codegen.Result) int
	// compile builds the binary for host into tmp and returns its path
	// and the banner printed once it runs.
	compile func(ctx context.Context, res *codegen.Result, tmp string, host codegen.Target) (bin, banner string, err error)
}

// serveLocal loads and generates the module in dir for the host, compiles
// what ls picks, and serves it on 127.0.0.1:port until Ctrl-C. Until the
// binary runs a signal cancels the work; after that it is forwarded.
func serveLocal(dir string, port int, ls localServer, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	host := codegen.Target{GOOS: goruntime.GOOS, GOARCH: goruntime.GOARCH}
	l, code := loadForCodegen(ctx, "run", dir, host, true, stderr)
	if l == nil {
		return code
	}
	res, code := generateFiles(l, "run", stderr)
	if res == nil {
		return code
	}
	if code := ls.pick(res); code != 0 {
		return code
	}
	changes, err := res.Write()
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp run: %v\n", err)
		return 1
	}
	printWarnings(stderr, changes)
	tmp, err := os.MkdirTemp("", ls.tmp)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp run: %v\n", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	bin, banner, err := ls.compile(ctx, res, tmp, host)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp run: %v\n", err)
		return 1
	}
	stop() // from here on, signals are forwarded to the server
	env := []string{"HOST=127.0.0.1", fmt.Sprintf("PORT=%d", port)}
	if os.Getenv("FLASH_DRAIN_GRACE") == "" {
		// No platform load balancer routes to a local run: Ctrl-C need
		// not wait for one to see /ping fail.
		env = append(env, "FLASH_DRAIN_GRACE=0")
	}
	return serveBinary(bin, res.Root, env, ls.name, banner, stdout, stderr)
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
	cmd.SysProcAttr = serverProcAttr()
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
