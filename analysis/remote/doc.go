// Package remote defines an Analyzer that checks //flash:remote directives
// and the Flash resources of a package.
//
// It is the per-package step of flash-lsp's analysis, runnable by any
// go/analysis driver (go vet -vettool, flash-lsp check, the language
// server). Its result, the package's *model.Package, feeds the whole-module
// step (package project), the code generator and the language server.
//
// # Analyzer flashremote
//
// flashremote: check Flash remote functions and resources
//
// A remote function is an exported, top-level function whose doc comment
// holds a directive
//
//	//flash:remote RESOURCE [method=METHOD] [path=PATH]
//
// RESOURCE names a package-level variable initialised with a composite
// literal of one of the eight resource types of package
// github.com/flash-lsp/flash-lsp/runtime, declared in this package (API) or
// exported by a package the file imports (res.GPU; a blank import matches by
// the package's name). Load-balanced resources serve HTTP routes and need
// method and path; queue resources take jobs.
//
// The analyzer reports these rules of the flash-lsp specification, each
// with its id as the diagnostic's category, at the smallest token it is
// about; where several apply to one token only the first in this list is
// reported:
//
//   - directive-syntax: a malformed field, an empty value, a duplicate key, a
//     missing resource, a second directive on one function, or a //flash:
//     comment other than //flash:remote.
//   - unknown-key: a key other than method and path (fix: rename it to the
//     closest key).
//   - misplaced-directive: a directive that is not in the doc comment of a
//     top-level function (on a method, type or variable, inside a body,
//     floating, or anywhere in a _test.go file). Where a syntax error may
//     have moved it (the parser's recovery swallows the declarations after
//     a broken one), nothing is reported: the compiler's error comes first.
//   - unknown-resource: the resource does not resolve (fix: the closest
//     resource name in scope).
//   - not-a-resource: it resolves, but not to a variable of a resource type
//     initialised with a readable literal.
//   - missing-route: a load-balanced resource without method and/or path
//     (fix: add method=POST path=/kebab-name, GET for a function without
//     parameters, unless the route would be reserved or taken).
//   - route-on-queue (warning): method or path on a queue resource, which
//     ignores them (fix: remove them).
//   - bad-method: not GET, POST, PUT, DELETE or PATCH, case-sensitively
//     (fix: upper-case it when that makes it valid).
//   - bad-path: a path the router (gorilla/mux) rejects or panics on, or
//     one that does not start with /, holds ?, #, // or white space, ends
//     with /, or has text that can never match the escaped request path
//     the router sees (a . or .. segment, a stray %, or outside variables
//     a character that requests carry percent-encoded, such as é or |)
//     (fix: prefix /, drop the trailing /, percent-encode such characters).
//   - reserved-path: /execute, /ping, /manifest or /openapi.json (fix:
//     /kebab-name).
//   - path-param: a path variable without a parameter of its name, bound to
//     a parameter that is not a string, bool, integer, float or
//     encoding.TextUnmarshaler, or repeated.
//   - query-param: a GET or DELETE parameter that is not a scalar, a pointer
//     to one, or a slice of them (fix: change the method to POST).
//   - signature: unnamed or variadic parameters, a context.Context that is
//     not first, results other than none, (T), (error), (T, error) and a
//     stream, iter.Seq2[T, error] or iter.Seq[T] alone (not with an error
//     result, nor an iter.Seq2 whose second type is not error),
//     types that JSON cannot carry (channels, functions, complex numbers,
//     unsafe.Pointer, non-empty interfaces but error, maps with keys that
//     are not strings or integers; checked through exported fields), and
//     types that other packages of the module cannot name.
//   - unexported, package-main, generic: the function is unexported, in
//     package main, or generic.
//   - resource-config: on a resource literal, a missing, empty or
//     non-constant Name, a non-constant field, WorkersMin > WorkersMax,
//     negative counts, a ScalerType other than QUEUE_DELAY and
//     REQUEST_COUNT, QUEUE_DELAY on a load-balanced resource, Mothership on
//     a queue resource, a FlashBoot other than OFF, FLASHBOOT and
//     PRIORITY_FLASHBOOT, an empty DataCenters or NetworkVolumes id, a
//     Registry that is not a credential id, and GPU settings on a CPU type
//     (or Instances on a GPU type), which a deploy could not map.
//
// Rules that need the whole module (route-conflict, duplicate-resource,
// ambiguous-function, and at most one Mothership) are not reported here: the
// analyzer's result, a *model.Package describing the package's resources and
// remote functions, feeds the whole-module step that reports them.
//
// Each package-level variable of a resource type carries a ResourceFact, so
// that packages importing it resolve it without its syntax.
package remote
