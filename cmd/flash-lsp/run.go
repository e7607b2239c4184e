package main

import (
	"fmt"
	"io"
)

func runRun(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "flash-lsp run: not implemented yet")
	return 2
}
