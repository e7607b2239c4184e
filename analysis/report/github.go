package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// writeGitHub writes GitHub Actions workflow commands, which become
// annotations on the pull request: ::error for errors, ::warning for
// warnings.
func writeGitHub(w io.Writer, fs []finding.Finding, c *converter) error {
	for _, f := range fs {
		level := "error"
		if f.Severity == rules.Warning {
			level = "warning"
		}
		p := c.lines.Position(f.File, f.Start)
		if _, err := fmt.Fprintf(w, "::%s file=%s,line=%d,col=%d::%s\n", level,
			githubEscapeProperty(c.rel(f.File)), p.Line, p.Col,
			githubEscapeData(f.Message+" ["+f.Rule+"]")); err != nil {
			return err
		}
	}
	return nil
}

func githubEscapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func githubEscapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
