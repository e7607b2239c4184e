package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/flash-lsp/flash-lsp/analysis/fix"
	"github.com/flash-lsp/flash-lsp/analysis/project"
	"github.com/flash-lsp/flash-lsp/analysis/report"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flash-lsp check [-C dir] [--format text|json|github|sarif] [--strict] [--fix] [packages...]")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nrules (the id in brackets after each finding):")
		for _, r := range rules.All {
			fmt.Fprintf(stderr, "  %-20s %-7s %s\n", r.ID, r.Severity, r.Doc)
		}
	}
	dir := fs.String("C", ".", "run in `dir` (inside the module to check)")
	format := fs.String("format", "text", "output `format`: text, json, github or sarif")
	strict := fs.Bool("strict", false, "fail on warnings too")
	applyFixes := fs.Bool("fix", false, "apply the fixes of bad-method, bad-path and route-on-queue findings")
	patterns, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		return usageExit(err)
	}
	if !report.Known(*format) {
		fmt.Fprintf(stderr, "flash-lsp check: unknown format %q: want text, json, github or sarif\n", *format)
		return 2
	}
	absDir, err := filepath.Abs(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp check: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := project.Config{Dir: absDir, Patterns: patterns, CacheDir: checkCacheDir()}
	p, err := project.Load(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp check: %v\n", err)
		return 2
	}
	if *applyFixes {
		n, files, err := fix.Apply(p.Findings, p.Sum, func(name string) {
			fmt.Fprintf(stderr, "flash-lsp check: not fixing %s: it changed since it was analysed; run check --fix again\n", displayPath(absDir, name))
		})
		if err != nil {
			fmt.Fprintf(stderr, "flash-lsp check: %v\n", err)
			return 2
		}
		if n > 0 {
			fmt.Fprintf(stderr, "fixed %d %s in %d %s\n", n, plural(n, "finding", "findings"), files, plural(files, "file", "files"))
			if p, err = project.Load(ctx, cfg); err != nil {
				fmt.Fprintf(stderr, "flash-lsp check: %v\n", err)
				return 2
			}
		}
	}

	if err := report.Write(stdout, *format, p.Findings, report.Options{Dir: absDir, Version: version}); err != nil {
		fmt.Fprintf(stderr, "flash-lsp check: %v\n", err)
		return 2
	}
	var errs, warns, failing int
	for i := range p.Findings {
		f := &p.Findings[i]
		if f.Severity == rules.Error {
			errs++
		} else {
			warns++
		}
		if f.Fails(*strict) {
			failing++
		}
	}
	summary := fmt.Sprintf("checked %d %s in %d %s", p.NumFunctions(), plural(p.NumFunctions(), "function", "functions"),
		p.NumPackages(), plural(p.NumPackages(), "package", "packages"))
	if errs+warns == 0 {
		fmt.Fprintf(stderr, "%s: no problems\n", summary)
	} else {
		fmt.Fprintf(stderr, "%s: %d %s, %d %s\n", summary, errs, plural(errs, "error", "errors"), warns, plural(warns, "warning", "warnings"))
	}
	if failing > 0 {
		return 1
	}
	return 0
}

// checkCacheDir is where check keeps the findings of earlier runs, as go vet
// does: $FLASH_LSP_CACHE, or flash-lsp/check in the user's cache directory.
// FLASH_LSP_CACHE=off disables it.
func checkCacheDir() string {
	switch dir := os.Getenv("FLASH_LSP_CACHE"); dir {
	case "off":
		return ""
	case "":
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(base, "flash-lsp", "check")
	default:
		return dir
	}
}

// displayPath returns file relative to dir when it is below it, as go vet
// prints paths.
func displayPath(dir, file string) string {
	if rel, err := filepath.Rel(dir, file); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return file
}
