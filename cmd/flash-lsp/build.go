package main

import (
	"fmt"
	"io"
)

func runBuild(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "flash-lsp build: not implemented yet")
	return 2
}
