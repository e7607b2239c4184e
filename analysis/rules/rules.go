// Package rules names the diagnostics flash-lsp reports. It is the one place
// that knows each rule's id, its severity and its precedence: the analyzers,
// the whole-module step, `flash-lsp check` and the language server all read
// it from here.
package rules

// Rule ids, in the order of SPEC section 4. When several rules apply to one
// token, only the first in this order is reported.
const (
	DirectiveSyntax    = "directive-syntax"
	UnknownKey         = "unknown-key"
	MisplacedDirective = "misplaced-directive"
	UnknownResource    = "unknown-resource"
	NotAResource       = "not-a-resource"
	MissingRoute       = "missing-route"
	RouteOnQueue       = "route-on-queue"
	BadMethod          = "bad-method"
	BadPath            = "bad-path"
	ReservedPath       = "reserved-path"
	RouteConflict      = "route-conflict"
	PathParam          = "path-param"
	QueryParam         = "query-param"
	Signature          = "signature"
	Unexported         = "unexported"
	PackageMain        = "package-main"
	Generic            = "generic"
	DuplicateResource  = "duplicate-resource"
	AmbiguousFunction  = "ambiguous-function"
	ResourceConfig     = "resource-config"

	// Compile is a type or syntax error of the user's code, reported as a
	// finding so that a package that does not compile is not a crash.
	Compile = "compile"
	// ClientCycle is a call to a generated client that would create an
	// import cycle.
	ClientCycle = "client-cycle"
)

// Severity of a finding.
type Severity int

const (
	Error Severity = iota
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Rule describes one rule.
type Rule struct {
	ID       string
	Severity Severity
	Doc      string
}

// All lists every rule in precedence order.
var All = []Rule{
	{DirectiveSyntax, Error, "malformed field, empty value, duplicate key, missing resource"},
	{UnknownKey, Error, "key other than method and path"},
	{MisplacedDirective, Error, "directive not on a top-level, non-method func"},
	{UnknownResource, Error, "resource identifier does not resolve"},
	{NotAResource, Error, "resolves, but not to a Flash resource literal"},
	{MissingRoute, Error, "load-balanced resource without method and/or path"},
	{RouteOnQueue, Warning, "method or path on a queue resource is ignored"},
	{BadMethod, Error, "method is not GET, POST, PUT, DELETE or PATCH"},
	{BadPath, Error, "malformed route path"},
	{ReservedPath, Error, "/execute, /ping, /manifest and /openapi.json are reserved"},
	{RouteConflict, Error, "two functions claim the same route on one resource"},
	{PathParam, Error, "path variable without a bindable parameter, or duplicated"},
	{QueryParam, Error, "GET/DELETE parameter that is not a scalar or slice of scalars"},
	{Signature, Error, "function signature cannot be bound to JSON/HTTP"},
	{Unexported, Error, "remote function is not exported"},
	{PackageMain, Error, "remote function is in package main"},
	{Generic, Error, "remote function is generic"},
	{DuplicateResource, Error, "two resources share a name"},
	{AmbiguousFunction, Warning, "two functions share a bare name on one resource"},
	{ResourceConfig, Error, "invalid resource configuration"},
	{Compile, Error, "the package does not compile"},
	{ClientCycle, Error, "calling a generated client here creates an import cycle"},
}

var byID = func() map[string]int {
	m := make(map[string]int, len(All))
	for i, r := range All {
		m[r.ID] = i
	}
	return m
}()

// SeverityOf returns the severity of rule id; unknown ids are errors.
func SeverityOf(id string) Severity {
	if i, ok := byID[id]; ok {
		return All[i].Severity
	}
	return Error
}

// Precedence returns the position of id in the precedence order: lower wins
// when two rules apply to the same token. Unknown ids sort last.
func Precedence(id string) int {
	if i, ok := byID[id]; ok {
		return i
	}
	return len(All)
}

// Known reports whether id is a rule id.
func Known(id string) bool {
	_, ok := byID[id]
	return ok
}
