// Package project is the batch client of the analysis engine (package
// engine): `flash-lsp check` and codegen call Load, which analyses the
// module once for a build environment, and read the Project it returns:
// the findings of the named packages (kept in a cache as go vet keeps its
// results), and the resources and functions codegen generates from.
package project
