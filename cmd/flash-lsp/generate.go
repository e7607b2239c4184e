package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/flash-lsp/flash-lsp/codegen"
)

func runGenerate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flash-lsp generate [-C dir] [--check] [--client-dir flashclient | --no-client]")
		fs.PrintDefaults()
	}
	dir := fs.String("C", ".", "run in `dir` (inside the module to generate)")
	check := fs.Bool("check", false, "write nothing; exit 1 listing stale or missing generated files")
	clientDir := fs.String("client-dir", codegen.DefaultClientDir, "write the typed clients to `dir`/<resource> inside the module")
	noClient := fs.Bool("no-client", false, "do not generate typed clients")
	pos, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		return usageExit(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "flash-lsp generate: unexpected argument %q\n", pos[0])
		fs.Usage()
		return 2
	}
	if *noClient && flagSet(fs, "client-dir") {
		fmt.Fprintln(stderr, "flash-lsp generate: --client-dir and --no-client are alternatives: pass one")
		fs.Usage()
		return 2
	}
	if !*noClient {
		if err := codegen.CheckClientDir(*clientDir); err != nil {
			fmt.Fprintf(stderr, "flash-lsp generate: --client-dir: %v\n", err)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	l, code := loadForCodegen(ctx, "generate", *dir, codegen.DefaultTarget, false, stderr)
	if l == nil {
		return code
	}
	res, code := generateFilesWith(l, "generate", stderr, codegen.Options{ClientDir: *clientDir, NoClient: *noClient})
	if res == nil {
		return code
	}
	clients := ""
	if len(res.Clients) > 0 {
		clients = ", " + count(len(res.Clients), "client", "clients")
	}
	if *check {
		changes, err := res.Check()
		if err != nil {
			fmt.Fprintf(stderr, "flash-lsp generate: %v\n", err)
			var se *codegen.SymlinkError
			if errors.As(err, &se) {
				return 1 // as generate itself would
			}
			return 2
		}
		if len(changes) > 0 {
			for _, c := range changes {
				line := fmt.Sprintf("%s: %s", c.Kind, relTo(*dir, res.Root, c.Path))
				if c.Note != "" {
					line += " (" + c.Note + ")"
				}
				fmt.Fprintln(stdout, line)
			}
			fmt.Fprintf(stderr, "flash-lsp generate: %d generated %s out of date; run flash-lsp generate\n",
				len(changes), plural(len(changes), "file is", "files are"))
			return 1
		}
		fmt.Fprintf(stderr, "✓ Generated files are up to date (%s%s and manifest)\n", count(len(res.Handlers), "handler", "handlers"), clients)
		return 0
	}
	changes, err := res.Write()
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp generate: %v\n", err)
		return 1
	}
	printWarnings(stderr, changes)
	fmt.Fprintf(stderr, "✓ Generated %s and manifest\n", count(len(res.Handlers), "handler", "handlers"))
	if len(res.OpenAPI) > 0 {
		fmt.Fprintf(stderr, "✓ Generated %s in %s/\n", count(len(res.OpenAPI), "OpenAPI document", "OpenAPI documents"), codegen.OpenAPIDir)
	}
	if len(res.Clients) > 0 {
		fmt.Fprintf(stderr, "✓ Generated %s in %s/\n", count(len(res.Clients), "typed client", "typed clients"), *clientDir)
	}
	return 0
}

// loadForCodegen loads the module at dir for target and prints its findings
// to stderr. It returns nil and the exit code when nothing may be generated:
// an error finding (other than a compile error, unless strictCompile) stops
// generation, since stale generated code can cause compile errors.
func loadForCodegen(ctx context.Context, cmd, dir string, t codegen.Target, strictCompile bool, stderr io.Writer) (*codegen.Loaded, int) {
	l, err := codegen.Load(ctx, dir, t)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp %s: %v\n", cmd, err)
		return nil, 2
	}
	for _, f := range l.Findings {
		fmt.Fprintln(stderr, l.FormatFinding(dir, f))
	}
	if n := len(l.Blocking(strictCompile)); n > 0 {
		fmt.Fprintf(stderr, "flash-lsp %s: %s; nothing written\n", cmd, count(n, "error", "errors"))
		return nil, 1
	}
	return l, 0
}

// generateFiles renders the generated files of a loaded module that build
// and run need: the manifest and the handlers. Typed clients are source
// for the user's packages; only generate writes them.
func generateFiles(l *codegen.Loaded, cmd string, stderr io.Writer) (*codegen.Result, int) {
	return generateFilesWith(l, cmd, stderr, codegen.Options{NoClient: true})
}

// generateFilesWith is generateFiles with options (GeneratedAt is set here).
func generateFilesWith(l *codegen.Loaded, cmd string, stderr io.Writer, opts codegen.Options) (*codegen.Result, int) {
	epoch, err := codegen.SourceDateEpoch()
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp %s: %v\n", cmd, err)
		return nil, 2
	}
	opts.GeneratedAt = epoch
	res, err := codegen.Generate(l.Project, opts)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp %s: %v\n", cmd, err)
		return nil, 1
	}
	return res, 0
}

// printWarnings names the user's files a write left in place.
func printWarnings(stderr io.Writer, changes []codegen.Change) {
	for _, w := range codegen.Warnings(changes) {
		fmt.Fprintln(stderr, w)
	}
}

// parseFlagsAnywhere parses args with fs, allowing flags after positional
// arguments ("run test-api --port 9000"). Arguments after "--" are
// positional.
func parseFlagsAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		// flag.Parse stops at the first non-flag, and swallows a "--".
		i := 0
		for i < len(args) && args[i] != "--" {
			i++
		}
		before, after := args[:i], args[i:]
		if err := fs.Parse(before); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			if len(after) > 0 {
				pos = append(pos, after[1:]...)
			}
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = append(append([]string(nil), rest[1:]...), after...)
	}
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// usageExit is the exit code of a flag parsing error: 0 for -h.
func usageExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// relTo returns the module-relative path rel as a path relative to dir, the
// directory given with -C, as go vet prints paths.
func relTo(dir, root, rel string) string {
	abs := filepath.Join(root, filepath.FromSlash(rel))
	base, err := filepath.Abs(dir)
	if err != nil {
		return abs
	}
	if r, err := filepath.Rel(base, abs); err == nil {
		return r
	}
	return abs
}

func count(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, plural(n, one, many))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
