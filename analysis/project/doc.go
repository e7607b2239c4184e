// Package project is flash-lsp's whole-program step. It loads a module,
// runs the per-package rules (remote.Analyzer) over every package in
// dependency order with a shared fact store, joins the packages' models
// into one project, and applies the rules that need the whole module
// (package modulerules).
//
// Three front ends share it: `flash-lsp check` calls Load and prints
// Project.Findings; codegen calls Load and walks Project.Resources and
// Project.Functions to write the manifest and handlers; the language server
// type-checks edited packages from its overlays and calls CheckPackage and
// modulerules itself, reusing Project.Facts.
package project
