// Package codegen turns the project model into the files flash-lsp generates
// and the archive it builds: it is the step after analysis in the pipeline
// (analysis/project → codegen → go build → archive).
//
// One generator serves every front end: `flash-lsp generate`, `flash-lsp
// build`, `flash-lsp run` and the language server's generate action all call
// Generate, so the manifest and the handlers never differ with the caller.
//
// Generate renders .flash/flash_manifest.json (SPEC section 5), one typed
// handler main package per resource under .flash/handlers/<dir>/main.go
// (section 6), .flash/.gitignore and, unless Options.NoClient, a typed
// client package per resource in the user's module (flashclient/<dir>,
// Client). AllMain is the one main package `flash-lsp run --all` builds to
// serve every resource in one process. Result.Write writes only what changed,
// atomically, and deletes the generated files of removed resources;
// Result.Check reports what is stale without writing. Build compiles the
// handlers and packages them into a reproducible archive.
//
// Every write into a user's module goes through write.go (SPEC section 14):
// the writers' lock on .flash/.lock (AcquireLock), Lstat checks against
// symbolic links, a plan of every write and deletion with its conflicts
// before the first write, and deletion of generated files only. Other
// writers of .flash, such as deploy's state file, use WriteFlashFile or
// WriteLock.WriteFile.
package codegen
