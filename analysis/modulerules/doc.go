// Package modulerules holds the rules that need every package of a module
// at once, one file per rule id:
//
//   - route-conflict (routeconflict.go): two functions on one resource
//     with the same method and equivalent path templates, in any packages;
//   - duplicate-resource (duplicateresource.go): two resources whose
//     names are equal, or equal once sanitised into a directory or an
//     environment suffix;
//   - ambiguous-function (ambiguousfunction.go): two functions with one
//     bare name on one resource;
//   - resource-config, its one-mothership part (mothership.go);
//   - client-cycle (clientcycle.go): a use of a generated typed client
//     that closes an import cycle.
//
// They run after the per-package analyzers (package remote) have built a
// model.Package per package. `flash-lsp check`, `generate` and the
// language server call the same Check and ClientCycles (through package
// project and the language server's cache). Their tests are testdata
// modules under testdata/src, one per rule, with `// want "regexp"`
// comments that package moduletest compares with what the rules find.
package modulerules
