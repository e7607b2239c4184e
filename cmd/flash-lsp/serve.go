package main

import (
	"fmt"
	"io"
	"os"
)

func runServe(args []string, stdin *os.File, stdout *os.File, stderr io.Writer) int {
	fmt.Fprintln(stderr, "flash-lsp serve: not implemented yet")
	return 2
}
