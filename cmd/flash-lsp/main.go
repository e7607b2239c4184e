// Command flash-lsp is the Flash language server, linter, generator and
// builder. It is thin: it parses flags and calls into packages lsp, codegen
// and analysis.
package main

import (
	"fmt"
	"os"
)

// version is set at link time (-ldflags "-X main.version=...").
var version = "devel"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) > 0 && args[0] == "version" {
		fmt.Printf("flash-lsp %s\n", version)
		return 0
	}
	fmt.Fprintln(os.Stderr, "usage: flash-lsp [serve|check|generate|build|run|version]")
	return 2
}
