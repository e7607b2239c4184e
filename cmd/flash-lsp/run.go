package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

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
		if !flagSet(fs, "port") {
			*port = codegen.DefaultAllPort
		}
	}
	if !*all && len(pos) != 1 {
		fmt.Fprintln(stderr, "flash-lsp run: want exactly one RESOURCE (its name or handler directory)")
		fs.Usage()
		return 2
	}
	if *port <= 0 || *port > 65535 {
		fmt.Fprintf(stderr, "flash-lsp run: --port %d is not a TCP port\n", *port)
		return 2
	}
	if *all {
		return runAll(*dir, *port, stdout, stderr)
	}

	var resDir, name string
	return serveLocal(*dir, *port, localServer{
		name: "run",
		tmp:  "flash-run-",
		pick: func(res *codegen.Result) int {
			var ok bool
			if resDir, name, ok = res.Resource(pos[0]); !ok {
				fmt.Fprintf(stderr, "flash-lsp run: no resource %q; resources: %s\n", pos[0], res.ResourceList())
				return 2
			}
			return 0
		},
		compile: func(ctx context.Context, res *codegen.Result, tmp string, host codegen.Target) (string, string, error) {
			bin := filepath.Join(tmp, resDir)
			banner := fmt.Sprintf("✓ Serving %s on http://127.0.0.1:%d (Ctrl-C to stop)\n", name, *port)
			return bin, banner, codegen.CompileLive(ctx, res, resDir, bin, host)
		},
	}, stdout, stderr)
}
