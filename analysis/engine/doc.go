// Package engine is flash-lsp's one analysis engine, in the shape of
// gopls' cache. A Module is one go.mod. It lists the module with the go
// command (one loader, for the build environment of its Config:
// GOOS/GOARCH, tags, tests), parses and type-checks the module's own
// packages in process (open buffers as overlays, dependencies outside the
// module from export data), runs the flash rules over each package in
// dependency order with a shared fact store (remote.Analyzer), then the
// rules that need the whole module (package modulerules), and hands out
// the result as an immutable Snapshot.
//
// Every front end is a client of it:
//   - the language server keeps one Module per go.mod and calls Analyze
//     after edits: it re-checks the edited packages, and their importers
//     only when what they see of them (API or facts) changed, then reruns
//     the cheap whole-module rules;
//   - `flash-lsp check` and `generate` are batch clients (package
//     analysis/project): one Module, one Analyze.
//
// Findings carry file and byte offsets; nothing here knows about lines,
// UTF-16 or LSP.
package engine
