package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"syscall"

	"github.com/flash-lsp/flash-lsp/codegen"
)

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flash-lsp run [-C dir] RESOURCE [--port 8000] | --all [--port 8888]")
		fs.PrintDefaults()
	}
	dir := fs.String("C", ".", "run in `dir` (inside the module)")
	port := fs.Int("port", 8000, "port to serve on, on 127.0.0.1 (8888 with --all)")
	all := fs.Bool("all", false, "serve every resource in one process, each under /<dir>")
	pos, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		return usageExit(err)
	}
	if *all {
		if len(pos) > 0 {
			fmt.Fprintf(stderr, "flash-lsp run: --all serves every resource: drop %q\n", pos[0])
			return 2
		}
		portSet := false
		fs.Visit(func(f *flag.Flag) { portSet = portSet || f.Name == "port" })
		if !portSet {
			*port = codegen.DefaultAllPort
		}
		if *port <= 0 || *port > 65535 {
			fmt.Fprintf(stderr, "flash-lsp run: --port %d is not a TCP port\n", *port)
			return 2
		}
		return runAll(*dir, *port, stdout, stderr)
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "flash-lsp run: want exactly one RESOURCE (its name or handler directory)")
		fs.Usage()
		return 2
	}
	if *port <= 0 || *port > 65535 {
		fmt.Fprintf(stderr, "flash-lsp run: --port %d is not a TCP port\n", *port)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	host := codegen.Target{GOOS: goruntime.GOOS, GOARCH: goruntime.GOARCH}
	l, code := loadForCodegen(ctx, "run", *dir, host, true, stderr)
	if l == nil {
		stop()
		return code
	}
	res, code := generateFiles(l, "run", stderr)
	if res == nil {
		stop()
		return code
	}
	resDir, name, ok := res.Resource(pos[0])
	if !ok {
		stop()
		fmt.Fprintf(stderr, "flash-lsp run: no resource %q; resources: %s\n", pos[0], res.ResourceList())
		return 2
	}
	if _, err := res.Write(); err != nil {
		stop()
		fmt.Fprintf(stderr, "flash-lsp run: %v\n", err)
		return 1
	}

	tmp, err := os.MkdirTemp("", "flash-run-")
	if err != nil {
		stop()
		fmt.Fprintf(stderr, "flash-lsp run: %v\n", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, resDir)
	if err := codegen.CompileLive(ctx, res, resDir, bin, host); err != nil {
		stop()
		fmt.Fprintf(stderr, "flash-lsp run: %v\n", err)
		return 1
	}
	stop() // from here on, signals are forwarded to the handler

	banner := fmt.Sprintf("✓ Serving %s on http://127.0.0.1:%d (Ctrl-C to stop)\n", name, *port)
	return serveBinary(bin, res.Root, []string{"HOST=127.0.0.1", fmt.Sprintf("PORT=%d", *port)}, "run", banner, stdout, stderr)
}
