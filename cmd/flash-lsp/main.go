// Command flash-lsp is the Flash language server, linter, generator and
// builder. It is thin: it parses flags and calls into packages lsp, codegen
// and analysis/project.
//
//	flash-lsp [serve] [--stdio]     language server on stdin/stdout
//	flash-lsp check [flags] [packages]
//	flash-lsp generate [flags]
//	flash-lsp build [flags]
//	flash-lsp run [flags] RESOURCE | --all
//	flash-lsp deploy | status | undeploy [flags]
//	flash-lsp version
//
// The same binary is a `go vet -vettool`: vet's own arguments are recognised
// before any subcommand.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"golang.org/x/term"
)

// version is set at link time (-ldflags "-X main.version=...").
var version = "devel"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// commands maps each subcommand to its entry point. Each returns the exit
// code: 0 success, 1 findings or failure, 2 usage or load errors.
var commands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"check":    runCheck,
	"generate": runGenerate,
	"build":    runBuild,
	"run":      runRun,
	"deploy":   runDeploy,
	"status":   runStatus,
	"undeploy": runUndeploy,
}

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	if isVetInvocation(args) {
		return runVet(args)
	}
	if len(args) == 0 || args[0] == "serve" || isServeFlag(args[0]) {
		if len(args) == 0 && term.IsTerminal(int(stdin.Fd())) {
			usage(stderr)
			return 2
		}
		if len(args) > 0 && args[0] == "serve" {
			args = args[1:]
		}
		return runServe(args, stdin, os.Stdout, stderr)
	}
	switch args[0] {
	case "version", "--version", "-version":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "flash-lsp version: unexpected argument %q\n", args[1])
			return 2
		}
		fmt.Fprintf(stdout, "flash-lsp %s\n", serverVersion())
		return 0
	case "help", "-h", "--help", "-help":
		usage(stdout)
		return 0
	}
	if cmd, ok := commands[args[0]]; ok {
		// The batch commands load a whole module once and exit: trading
		// memory for less garbage collection halves their CPU time. The
		// language server keeps the default, for its memory budget.
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(400)
		}
		return cmd(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "flash-lsp: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

// isServeFlag reports whether arg, the first argument, is a flag of serve
// given without the word serve (`flash-lsp --stdio`, `flash-lsp --logfile
// f`): serve is the default command. Help and version flags are not.
func isServeFlag(arg string) bool {
	switch arg {
	case "--version", "-version", "-h", "--help", "-help":
		return false
	}
	return strings.HasPrefix(arg, "-")
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  flash-lsp [serve] [--stdio]          language server on stdin/stdout
  flash-lsp check [-C dir] [--format text|json|github|sarif] [--strict] [--fix] [packages...]
  flash-lsp generate [-C dir] [--check] [--client-dir flashclient | --no-client]
  flash-lsp build [-C dir] [-o name] [--keep-build] [--goos linux --goarch amd64]
  flash-lsp run [-C dir] RESOURCE [--port 8000] | --all [--port 8888]
  flash-lsp deploy [-C dir] [--plan [--format text|json]] [--registry REGISTRY] [--base IMAGE]
                   [--api-key-secret NAME] [--wait DURATION] [--yes] [RESOURCE...]
  flash-lsp undeploy [-C dir] [--yes] [RESOURCE... | --all]
  flash-lsp status [-C dir] [--format text|json]
  flash-lsp version
`)
}
