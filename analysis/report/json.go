package report

import (
	"encoding/json"
	"io"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
)

// jsonFinding is one element of the JSON array of SPEC 13.
type jsonFinding struct {
	File     string        `json:"file"`
	Line     int           `json:"line"`
	Col      int           `json:"col"`
	EndLine  int           `json:"end_line"`
	EndCol   int           `json:"end_col"`
	Severity string        `json:"severity"`
	Rule     string        `json:"rule"`
	Message  string        `json:"message"`
	Related  []jsonRelated `json:"related"`
}

type jsonRelated struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

// writeJSON writes a JSON array, [] when there are no findings; end_col is
// exclusive.
func writeJSON(w io.Writer, fs []finding.Finding, c *converter) error {
	out := make([]jsonFinding, 0, len(fs))
	for _, f := range fs {
		start, end := c.lines.Position(f.File, f.Start), c.lines.Position(f.File, max(f.End, f.Start))
		jf := jsonFinding{
			File:     c.rel(f.File),
			Line:     start.Line,
			Col:      start.Col,
			EndLine:  end.Line,
			EndCol:   end.Col,
			Severity: f.Severity.String(),
			Rule:     f.Rule,
			Message:  f.Message,
			Related:  []jsonRelated{},
		}
		for _, r := range f.Related {
			p := c.lines.Position(r.File, r.Start)
			jf.Related = append(jf.Related, jsonRelated{File: c.rel(r.File), Line: p.Line, Col: p.Col, Message: r.Message})
		}
		out = append(out, jf)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
