package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/flash-lsp/flash-lsp/analysis/project"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// checkFixable are the rules whose fixes `check --fix` applies: the ones
// that do not guess (a new name or route would).
var checkFixable = []string{rules.BadMethod, rules.BadPath, rules.RouteOnQueue}

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flash-lsp check [-C dir] [--format text|json|github|sarif] [--strict] [--fix] [packages...]")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nrules (the id in brackets after each finding):")
		for _, r := range rules.All {
			fmt.Fprintf(stderr, "  %-20s %-7s %s\n", r.ID, r.Severity, r.Doc)
		}
	}
	dir := fs.String("C", ".", "run in `dir` (inside the module to check)")
	format := fs.String("format", "text", "output `format`: text, json, github or sarif")
	strict := fs.Bool("strict", false, "fail on warnings too")
	fix := fs.Bool("fix", false, "apply the fixes of bad-method, bad-path and route-on-queue findings")
	patterns, err := checkParseArgs(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	write, ok := checkWriters[*format]
	if !ok {
		fmt.Fprintf(stderr, "flash-lsp check: unknown format %q: want text, json, github or sarif\n", *format)
		return 2
	}
	absDir, err := filepath.Abs(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp check: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := project.Config{Dir: absDir, Patterns: patterns, CacheDir: checkCacheDir()}
	p, err := project.Load(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp check: %v\n", err)
		return 2
	}
	if *fix {
		n, files, err := checkApplyFixes(p.Findings, p.Sum, func(name string) {
			fmt.Fprintf(stderr, "flash-lsp check: not fixing %s: it changed since it was analysed; run check --fix again\n", checkRel(absDir, name))
		})
		if err != nil {
			fmt.Fprintf(stderr, "flash-lsp check: %v\n", err)
			return 2
		}
		if n > 0 {
			fmt.Fprintf(stderr, "fixed %d %s in %d %s\n", n, checkPlural(n, "finding", "findings"), files, checkPlural(files, "file", "files"))
			if p, err = project.Load(ctx, cfg); err != nil {
				fmt.Fprintf(stderr, "flash-lsp check: %v\n", err)
				return 2
			}
		}
	}

	if err := write(stdout, absDir, p.Findings); err != nil {
		fmt.Fprintf(stderr, "flash-lsp check: %v\n", err)
		return 2
	}
	var errs, warns, failing int
	for i := range p.Findings {
		f := &p.Findings[i]
		if f.Severity == rules.Error {
			errs++
		} else {
			warns++
		}
		if f.Fails(*strict) {
			failing++
		}
	}
	summary := fmt.Sprintf("checked %d %s in %d %s", p.NumFunctions(), checkPlural(p.NumFunctions(), "function", "functions"),
		p.NumPackages(), checkPlural(p.NumPackages(), "package", "packages"))
	if errs+warns == 0 {
		fmt.Fprintf(stderr, "%s: no problems\n", summary)
	} else {
		fmt.Fprintf(stderr, "%s: %d %s, %d %s\n", summary, errs, checkPlural(errs, "error", "errors"), warns, checkPlural(warns, "warning", "warnings"))
	}
	if failing > 0 {
		return 1
	}
	return 0
}

// checkCacheDir is where check keeps the findings of earlier runs, as go vet
// does: $FLASH_LSP_CACHE, or flash-lsp/check in the user's cache directory.
// FLASH_LSP_CACHE=off disables it.
func checkCacheDir() string {
	switch dir := os.Getenv("FLASH_LSP_CACHE"); dir {
	case "off":
		return ""
	case "":
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(base, "flash-lsp", "check")
	default:
		return dir
	}
}

// checkParseArgs parses flags that may come before, between or after the
// package patterns ("--" ends the flags).
func checkParseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func checkPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// checkRel returns file relative to dir, as go vet prints it.
func checkRel(dir, file string) string {
	if rel, err := filepath.Rel(dir, file); err == nil {
		return filepath.ToSlash(rel)
	}
	return file
}

// checkWriters print findings in each format; paths are relative to dir.
var checkWriters = map[string]func(w io.Writer, dir string, fs []project.Finding) error{
	"text":   checkWriteText,
	"json":   checkWriteJSON,
	"github": checkWriteGitHub,
	"sarif":  checkWriteSARIF,
}

func checkWriteText(w io.Writer, dir string, fs []project.Finding) error {
	for _, f := range fs {
		if _, err := fmt.Fprintf(w, "%s:%d:%d: %s [%s]\n", checkRel(dir, f.Pos.Filename), f.Pos.Line, f.Pos.Column, f.Message, f.Rule); err != nil {
			return err
		}
	}
	return nil
}

type checkJSONFinding struct {
	File     string             `json:"file"`
	Line     int                `json:"line"`
	Col      int                `json:"col"`
	EndLine  int                `json:"end_line"`
	EndCol   int                `json:"end_col"`
	Severity string             `json:"severity"`
	Rule     string             `json:"rule"`
	Message  string             `json:"message"`
	Related  []checkJSONRelated `json:"related"`
}

type checkJSONRelated struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

func checkWriteJSON(w io.Writer, dir string, fs []project.Finding) error {
	out := make([]checkJSONFinding, 0, len(fs))
	for _, f := range fs {
		end := f.End
		if !end.IsValid() {
			end = f.Pos
		}
		jf := checkJSONFinding{
			File:     checkRel(dir, f.Pos.Filename),
			Line:     f.Pos.Line,
			Col:      f.Pos.Column,
			EndLine:  end.Line,
			EndCol:   end.Column,
			Severity: f.Severity.String(),
			Rule:     f.Rule,
			Message:  f.Message,
			Related:  []checkJSONRelated{},
		}
		for _, r := range f.Related {
			jf.Related = append(jf.Related, checkJSONRelated{
				File: checkRel(dir, r.Pos.Filename), Line: r.Pos.Line, Col: r.Pos.Column, Message: r.Message,
			})
		}
		out = append(out, jf)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// checkWriteGitHub writes GitHub Actions workflow commands, which become
// annotations on the pull request.
func checkWriteGitHub(w io.Writer, dir string, fs []project.Finding) error {
	for _, f := range fs {
		level := "error"
		if f.Severity == rules.Warning {
			level = "warning"
		}
		if _, err := fmt.Fprintf(w, "::%s file=%s,line=%d,col=%d::%s\n", level,
			githubEscapeProperty(checkRel(dir, f.Pos.Filename)), f.Pos.Line, f.Pos.Column,
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

func checkWriteSARIF(w io.Writer, dir string, fs []project.Finding) error {
	driver := sarifDriver{
		Name:           "flash-lsp",
		Version:        version,
		InformationURI: "https://github.com/flash-lsp/flash-lsp",
	}
	index := make(map[string]int)
	for i, r := range rules.All {
		sr := sarifRule{ID: r.ID, ShortDescription: sarifMessage{r.Doc}}
		sr.DefaultConfiguration.Level = sarifLevel(r.Severity)
		driver.Rules = append(driver.Rules, sr)
		index[r.ID] = i
	}
	loc := func(file string, line, col, endLine, endCol int) sarifLocation {
		var l sarifLocation
		l.PhysicalLocation.ArtifactLocation.URI = checkRel(dir, file)
		l.PhysicalLocation.ArtifactLocation.URIBaseID = "%SRCROOT%"
		l.PhysicalLocation.Region = sarifRegion{StartLine: line, StartColumn: col, EndLine: endLine, EndColumn: endCol}
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
		end := f.End
		if !end.IsValid() {
			end = f.Pos
		}
		res := sarifResult{
			RuleID:    f.Rule,
			RuleIndex: i,
			Level:     sarifLevel(f.Severity),
			Message:   sarifMessage{f.Message},
			Locations: []sarifLocation{loc(f.Pos.Filename, f.Pos.Line, f.Pos.Column, end.Line, end.Column)},
		}
		for j, r := range f.Related {
			rend := r.End
			if !rend.IsValid() {
				rend = r.Pos
			}
			l := loc(r.Pos.Filename, r.Pos.Line, r.Pos.Column, rend.Line, rend.Column)
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

// checkApplyFixes applies the first fix of every finding of a checkFixable
// rule, file by file, skipping edits that overlap an earlier one, and writes
// each changed file atomically. A file whose bytes are not those analysed
// (sum) is left alone and passed to skipped: the fixes' offsets are into
// the analysed bytes, and the user's newer edit wins. It returns the number
// of findings fixed and of files written.
func checkApplyFixes(fs []project.Finding, sum func(string) ([sha256.Size]byte, bool), skipped func(name string)) (fixed, files int, err error) {
	type edit struct {
		project.Edit
		finding int
	}
	byFile := make(map[string][]edit)
	for i, f := range fs {
		if !slices.Contains(checkFixable, f.Rule) || len(f.Fixes) == 0 {
			continue
		}
		for _, e := range f.Fixes[0].Edits {
			byFile[e.Filename] = append(byFile[e.Filename], edit{e, i})
		}
	}
	names := make([]string, 0, len(byFile))
	for name := range byFile {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		edits := byFile[name]
		slices.SortStableFunc(edits, func(a, b edit) int { return a.Start.Offset - b.Start.Offset })
		src, err := os.ReadFile(name)
		if err != nil {
			return fixed, files, fmt.Errorf("applying fixes: %w", err)
		}
		if analysed, ok := sum(name); !ok || analysed != sha256.Sum256(src) {
			skipped(name)
			continue
		}
		// A finding is fixed only when all its edits apply.
		skip := make(map[int]bool)
		last := -1
		for _, e := range edits {
			if e.Start.Offset < last || e.End.Offset < e.Start.Offset || e.End.Offset > len(src) {
				skip[e.finding] = true
				continue
			}
			last = e.End.Offset
		}
		var out []byte
		prev := 0
		done := make(map[int]bool)
		for _, e := range edits {
			if skip[e.finding] {
				continue
			}
			out = append(out, src[prev:e.Start.Offset]...)
			out = append(out, e.NewText...)
			prev = e.End.Offset
			done[e.finding] = true
		}
		if len(done) == 0 {
			continue
		}
		out = append(out, src[prev:]...)
		if err := checkWriteFileAtomic(name, src, out); err != nil {
			return fixed, files, fmt.Errorf("applying fixes: %w", err)
		}
		fixed += len(done)
		files++
	}
	return fixed, files, nil
}

// checkWriteFileAtomic replaces name, which held old, with data through a
// temporary file in the same directory, keeping name's permissions. It
// checks the bytes again just before the rename, so that an edit saved
// while the fix was computed is not lost (an edit saved in the instant
// between the check and the rename still is: no file system offers a
// compare-and-swap).
func checkWriteFileAtomic(name string, old, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Lstat(name); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", name)
		}
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if now, err := os.ReadFile(name); err != nil || !bytes.Equal(now, old) {
		return fmt.Errorf("%s changed while it was being fixed: not written", name)
	}
	return os.Rename(tmp.Name(), name)
}
