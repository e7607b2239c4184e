package engine

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/objectpath"
)

// Facts holds the analysis facts exported by the packages analysed so far,
// keyed by package path and object path, not by types.Object: an importer
// sees a package through export data or through another type-checking of
// it, so the objects differ while the keys do not.
//
// A Facts is safe for concurrent use. unit.check replaces all the facts of
// the package it analyses at once when it finishes, so a language server can
// re-analyse one package after an edit and then re-analyse its importers.
type Facts struct {
	mu   sync.RWMutex
	pkgs map[string]*pkgFacts // by package path
}

// pkgFacts are the facts exported by one package.
type pkgFacts struct {
	objects map[objectKey]analysis.Fact
	pkg     map[reflect.Type]analysis.Fact
}

type objectKey struct {
	path objectpath.Path
	typ  reflect.Type
}

// NewFacts returns an empty fact store.
func NewFacts() *Facts {
	return &Facts{pkgs: make(map[string]*pkgFacts)}
}

func newPkgFacts() *pkgFacts {
	return &pkgFacts{objects: make(map[objectKey]analysis.Fact), pkg: make(map[reflect.Type]analysis.Fact)}
}

// get returns the facts of package path; nil when there are none.
func (s *Facts) get(path string) *pkgFacts {
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pkgs[path]
}

// set replaces the facts of package path.
func (s *Facts) set(path string, pf *pkgFacts) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pkgs == nil {
		s.pkgs = make(map[string]*pkgFacts)
	}
	s.pkgs[path] = pf
}

// Forget drops the facts of package path, for instance when the package
// has been deleted.
func (s *Facts) Forget(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pkgs, path)
}

// copyFact copies the value of src into dst, both pointers to the same
// type, as the go/analysis fact API requires. It reports false when the
// types differ.
func copyFact(dst, src analysis.Fact) bool {
	dv, sv := reflect.ValueOf(dst), reflect.ValueOf(src)
	if dv.Kind() != reflect.Pointer || dv.Type() != sv.Type() || dv.IsNil() || sv.IsNil() {
		return false
	}
	dv.Elem().Set(sv.Elem())
	return true
}

// A Fingerprinter is a fact that says which of its parts importers read.
type Fingerprinter interface {
	Fingerprint() string
}

// Fingerprint summarises the facts of package path as its importers'
// analysis reads them: each fact's Fingerprint when it has one, else its
// value. The language server re-checks the importers of a re-checked
// package only when this, or the package's API, changed.
func (s *Facts) Fingerprint(path string) string {
	pf := s.get(path)
	if pf == nil {
		return ""
	}
	var lines []string
	describe := func(f analysis.Fact) string {
		if fp, ok := f.(Fingerprinter); ok {
			return fp.Fingerprint()
		}
		return fmt.Sprintf("%#v", f)
	}
	for k, f := range pf.objects {
		lines = append(lines, fmt.Sprintf("%s %s %s", k.path, k.typ, describe(f)))
	}
	for typ, f := range pf.pkg {
		lines = append(lines, fmt.Sprintf("package %s %s", typ, describe(f)))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
