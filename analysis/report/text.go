package report

import (
	"fmt"
	"io"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
)

// writeText writes `file:line:col: message [rule-id]` lines, as go vet.
func writeText(w io.Writer, fs []finding.Finding, c *converter) error {
	for _, f := range fs {
		p := c.lines.Position(f.File, f.Start)
		if _, err := fmt.Fprintf(w, "%s:%d:%d: %s [%s]\n", c.rel(f.File), p.Line, p.Col, f.Message, f.Rule); err != nil {
			return err
		}
	}
	return nil
}
