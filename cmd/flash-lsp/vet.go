package main

import (
	"os"
	"strings"

	"golang.org/x/tools/go/analysis/unitchecker"

	"github.com/flash-lsp/flash-lsp/analysis/remote"
)

// isVetInvocation reports whether args are go vet's own: `-V=full` (the
// tool's version, for vet's cache), `-flags` (the tool's flags, as JSON), or
// analyzer flags followed by one *.cfg file (the unit to check). go vet
// -vettool=$(command -v flash-lsp) runs the binary exactly so.
func isVetInvocation(args []string) bool {
	switch {
	case len(args) == 0:
		return false
	case len(args) == 1 && (args[0] == "-flags" || args[0] == "-V" || strings.HasPrefix(args[0], "-V=")):
		return true
	}
	last := args[len(args)-1]
	if !strings.HasSuffix(last, ".cfg") {
		return false
	}
	for _, a := range args[:len(args)-1] {
		if !strings.HasPrefix(a, "-") {
			return false
		}
	}
	return true
}

// runVet hands control to unitchecker, which owns flag.CommandLine and
// os.Args, reports the per-package rules (rule ids travel as the
// diagnostic category: `go vet -json` shows them) and exits.
func runVet(args []string) int {
	os.Args = append([]string{os.Args[0]}, args...)
	unitchecker.Main(remote.Analyzer)
	return 0 // not reached: unitchecker.Main exits
}
