package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"syscall"

	"golang.org/x/term"

	"github.com/flash-lsp/flash-lsp/codegen"
)

func runBuild(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flash-lsp build [-C dir] [-o name] [--keep-build] [--goos linux --goarch amd64]")
		fs.PrintDefaults()
	}
	dir := fs.String("C", ".", "run in `dir` (inside the module to build)")
	out := fs.String("o", codegen.DefaultArchive, "archive file `name`, written inside .flash")
	keep := fs.Bool("keep-build", false, "keep the compiled handlers in .flash/.build")
	goos := fs.String("goos", codegen.DefaultTarget.GOOS, "target operating system")
	goarch := fs.String("goarch", codegen.DefaultTarget.GOARCH, "target architecture")
	pos, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		return usageExit(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "flash-lsp build: unexpected argument %q\n", pos[0])
		fs.Usage()
		return 2
	}
	if err := codegen.CheckArchiveName(*out); err != nil {
		fmt.Fprintf(stderr, "flash-lsp build: -o: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	target := codegen.Target{GOOS: *goos, GOARCH: *goarch}

	// check: every error stops the build, compile errors included.
	l, code := loadForCodegen(ctx, "build", *dir, target, true, stderr)
	if l == nil {
		return code
	}
	fmt.Fprintf(stderr, "✓ Checked %s in %s\n", count(l.Functions, "function", "functions"), count(l.Packages, "package", "packages"))

	res, code := generateFiles(l, "build", stderr)
	if res == nil {
		return code
	}
	// One lock from the first write to the archive: no other writer
	// changes the handlers while they compile.
	lk, err := codegen.AcquireLock(res.Root)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp build: %v\n", err)
		return 1
	}
	defer lk.Unlock()
	changes, err := res.WriteLocked(lk)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp build: %v\n", err)
		return 1
	}
	printWarnings(stderr, changes)
	fmt.Fprintf(stderr, "✓ Generated %s and manifest\n", count(len(res.Handlers), "handler", "handlers"))

	epoch, _ := codegen.SourceDateEpoch() // already validated by generateFiles
	opts := codegen.BuildOptions{
		Target:    target,
		Archive:   *out,
		KeepBuild: *keep,
		ModTime:   epoch,
		Lock:      lk,
	}
	// On a terminal, a live line shows the compilation's progress.
	live := false
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		live = true
		opts.Progress = func(done, total int) {
			fmt.Fprintf(stderr, "\r\033[K  Compiling handlers for %s… %d/%d", target, done, total)
		}
	}
	br, err := codegen.Build(ctx, res, opts)
	if live {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp build: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "✓ Compiled %s\n", count(len(br.Handlers), "handler", "handlers"))
	fmt.Fprintf(stderr, "✓ Created %s (%s)\n", relTo(*dir, res.Root, path.Join(".flash", *out)), codegen.FormatSize(br.Size))
	return 0
}
