package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/flash-lsp/flash-lsp/lsp"
)

// runServe is `flash-lsp serve`: the language server on stdin and stdout.
// The protocol owns stdout, so the log goes to stderr or --logfile.
func runServe(args []string, stdin *os.File, stdout *os.File, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Bool("stdio", true, "serve on stdin and stdout (the only transport; accepted for editors that pass it)")
	logfile := fs.String("logfile", "", "write the server's log to this file instead of stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "flash-lsp serve: unexpected arguments %q\n", fs.Args())
		return 2
	}
	logw := stderr
	if *logfile != "" {
		f, err := os.OpenFile(*logfile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "flash-lsp serve: %v\n", err)
			return 2
		}
		defer f.Close()
		logw = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return lsp.New(lsp.Options{Log: logw, Version: serverVersion()}).Run(ctx, stdio{stdin, stdout})
}

// stdio joins stdin and stdout into the server's transport.
type stdio struct {
	in  *os.File
	out *os.File
}

func (s stdio) Read(p []byte) (int, error)  { return s.in.Read(p) }
func (s stdio) Write(p []byte) (int, error) { return s.out.Write(p) }
func (s stdio) Close() error {
	s.in.Close()
	return s.out.Close()
}
