package project

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
)

// cacheEntry is what Config.CacheDir keeps per key: the findings of the
// whole module before filtering by pattern, and the counts a summary needs.
type cacheEntry struct {
	Findings  []finding.Finding
	Packages  int
	Functions int
}

// cacheVersion changes when the entry format or the key's recipe does.
const cacheVersion = "flash-check-cache-v3"

// cacheTTL is how long an unused entry is kept.
const cacheTTL = 7 * 24 * time.Hour

// cacheKey hashes everything the findings depend on: the running
// executable (the analyzers are compiled into it), the configuration, the
// go command's listing of the module and its dependencies (which names
// every dependency's export data by a content hash, and carries the go
// command's errors), and the contents of every source file of the module.
// It returns the sha256 of each file too: fixes apply to those bytes.
func cacheKey(cfg Config, root string, listing []byte, files []string) (string, map[string][sha256.Size]byte, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", cacheVersion)
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return "", nil, err
	}
	fmt.Fprintf(h, "exe %s %d %d\n", exe, fi.Size(), fi.ModTime().UnixNano())
	fmt.Fprintf(h, "env %q\nflags %q\ntests %t\n", cfg.Env, cfg.BuildFlags, !cfg.SkipTests)
	fmt.Fprintf(h, "listing %d\n", len(listing))
	h.Write(listing)
	if data, err := os.ReadFile(filepath.Join(root, "go.mod")); err == nil {
		fmt.Fprintf(h, "go.mod %d\n", len(data))
		h.Write(data)
	}
	sums := make(map[string][sha256.Size]byte, len(files))
	for _, name := range files {
		data, ok := cfg.Overlay[name]
		if !ok {
			if data, err = os.ReadFile(name); err != nil {
				return "", nil, err
			}
		}
		fmt.Fprintf(h, "file %s %d\n", name, len(data))
		h.Write(data)
		sums[name] = sha256.Sum256(data)
	}
	return hex.EncodeToString(h.Sum(nil)), sums, nil
}

// readCache returns the entry stored in file, if any.
func readCache(file string) (cacheEntry, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return cacheEntry{}, false
	}
	var e cacheEntry
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&e); err != nil {
		return cacheEntry{}, false
	}
	now := time.Now()
	os.Chtimes(file, now, now) // keep entries in use; failure only shortens their life
	return e, true
}

// writeCache stores e in file atomically and drops stale entries. Failures
// are ignored: the cache only saves time.
func writeCache(file string, e cacheEntry) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(e); err != nil {
		return
	}
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".entry-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(buf.Bytes())
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), file) != nil {
		os.Remove(tmp.Name())
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range entries {
		if !strings.HasSuffix(de.Name(), ".gob") {
			continue
		}
		if fi, err := de.Info(); err == nil && time.Since(fi.ModTime()) > cacheTTL {
			os.Remove(filepath.Join(dir, de.Name()))
		}
	}
}
