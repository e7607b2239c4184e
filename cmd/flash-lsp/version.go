package main

import "runtime/debug"

// serverVersion is the version `flash-lsp version` prints and the language
// server reports in initialize's serverInfo, which editors compare with the
// version they need: the one set at link time, else the module version that
// `go install …/cmd/flash-lsp@vX.Y.Z` records in the binary, else "devel".
func serverVersion() string {
	return pickVersion(version, readBuildInfo)
}

func readBuildInfo() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	return bi.Main.Version
}

func pickVersion(linked string, buildInfo func() string) string {
	if linked != "devel" && linked != "" {
		return linked
	}
	if v := buildInfo(); v != "" && v != "(devel)" {
		return v
	}
	return "devel"
}
