package report

import (
	"encoding/json"
	"io"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// SARIF 2.1.0, the subset code-scanning services read.
type (
	sarifLog struct {
		Version string     `json:"version"`
		Schema  string     `json:"$schema"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string       `json:"id"`
		ShortDescription     sarifMessage `json:"shortDescription"`
		DefaultConfiguration struct {
			Level string `json:"level"`
		} `json:"defaultConfiguration"`
	}
	sarifMessage struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID           string          `json:"ruleId"`
		RuleIndex        int             `json:"ruleIndex"`
		Level            string          `json:"level"`
		Message          sarifMessage    `json:"message"`
		Locations        []sarifLocation `json:"locations"`
		RelatedLocations []sarifLocation `json:"relatedLocations,omitempty"`
	}
	sarifLocation struct {
		ID               *int                  `json:"id,omitempty"`
		PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
		Message          *sarifMessage         `json:"message,omitempty"`
	}
	sarifPhysicalLocation struct {
		ArtifactLocation struct {
			URI       string `json:"uri"`
			URIBaseID string `json:"uriBaseId,omitempty"`
		} `json:"artifactLocation"`
		Region sarifRegion `json:"region"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn"`
		EndLine     int `json:"endLine"`
		EndColumn   int `json:"endColumn"`
	}
)

func sarifLevel(s rules.Severity) string {
	if s == rules.Warning {
		return "warning"
	}
	return "error"
}

func writeSARIF(w io.Writer, fs []finding.Finding, c *converter) error {
	driver := sarifDriver{
		Name:           "flash-lsp",
		Version:        c.opt.Version,
		InformationURI: "https://github.com/flash-lsp/flash-lsp",
	}
	index := make(map[string]int)
	for i, r := range rules.All {
		sr := sarifRule{ID: r.ID, ShortDescription: sarifMessage{r.Doc}}
		sr.DefaultConfiguration.Level = sarifLevel(r.Severity)
		driver.Rules = append(driver.Rules, sr)
		index[r.ID] = i
	}
	loc := func(file string, start, end int) sarifLocation {
		s, e := c.lines.Position(file, start), c.lines.Position(file, max(end, start))
		var l sarifLocation
		l.PhysicalLocation.ArtifactLocation.URI = c.rel(file)
		l.PhysicalLocation.ArtifactLocation.URIBaseID = "%SRCROOT%"
		l.PhysicalLocation.Region = sarifRegion{StartLine: s.Line, StartColumn: s.Col, EndLine: e.Line, EndColumn: e.Col}
		return l
	}
	results := make([]sarifResult, 0, len(fs))
	for _, f := range fs {
		i, ok := index[f.Rule]
		if !ok {
			i = len(driver.Rules)
			index[f.Rule] = i
			sr := sarifRule{ID: f.Rule, ShortDescription: sarifMessage{f.Rule}}
			sr.DefaultConfiguration.Level = sarifLevel(f.Severity)
			driver.Rules = append(driver.Rules, sr)
		}
		res := sarifResult{
			RuleID:    f.Rule,
			RuleIndex: i,
			Level:     sarifLevel(f.Severity),
			Message:   sarifMessage{f.Message},
			Locations: []sarifLocation{loc(f.File, f.Start, f.End)},
		}
		for j, r := range f.Related {
			l := loc(r.File, r.Start, r.End)
			l.ID = &j
			l.Message = &sarifMessage{r.Message}
			res.RelatedLocations = append(res.RelatedLocations, l)
		}
		results = append(results, res)
	}
	log := sarifLog{
		Version: "2.1.0",
		Schema:  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}
