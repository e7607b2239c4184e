package engine

import (
	"bytes"
	"context"
	"go/token"
	"go/types"
	"maps"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config says how to load a module.
type Config struct {
	// Env holds KEY=VALUE settings added to the go command's environment,
	// such as GOOS=linux, GOARCH=amd64 and CGO_ENABLED=0 to see the files
	// of a target platform. Type sizes follow GOARCH.
	Env []string
	// BuildFlags are passed to the go command (-tags=...).
	BuildFlags []string
	// SkipTests leaves _test.go files out. By default they are analysed,
	// so that a directive in a test file is reported as misplaced.
	SkipTests bool
	// Batch says the module is analysed once (check, generate): one go
	// list run lists the packages and compiles what export data needs, as
	// go vet does. A language server leaves it unset, so that a reload
	// while the user types compiles no package of the module.
	Batch bool
}

// Module is one go.mod: a project of its own. Its methods are safe for
// concurrent use; Analyze runs one at a time.
type Module struct {
	Dir string // module root (absolute)
	// LoadTime is how long the last metadata load took, for logs.
	LoadTime time.Duration

	cfg   Config
	sizes types.Sizes

	mu   sync.Mutex // held by Analyze for its whole run
	fset *token.FileSet
	// Path and GoVersion come from the metadata.
	path      string
	goVersion string

	loaded bool
	// fresh says Metadata loaded the metadata for freshOverlays and no
	// Analyze has run since.
	fresh         bool
	freshOverlays map[string][]byte
	loads         int // metadata loads so far
	needReload    bool
	loadErrs      []string
	meta          map[string]*metaPkg // by package path
	order         []string            // workspace packages, dependencies first
	rdeps         map[string][]string // workspace importers of each package
	owner         map[string]string   // filename → workspace package path
	exports       map[string]*types.Package
	listing       []byte          // the go list output the metadata came from
	unresolved    map[string]bool // imports still unknown after a reload
	unowned       map[string]bool // open files no package of the metadata holds
	overlaid      map[string]bool // files overlaid in the last run

	reqMu      sync.Mutex // guards reqChanges
	reqChanges []FileChange

	// fileMu guards files and disk, and expMu exports, while packages are
	// checked in parallel.
	fileMu sync.Mutex
	expMu  sync.Mutex
	files  map[string]*File    // parsed files, by filename
	disk   map[string][]byte   // disk contents read so far
	pkgs   map[string]*Package // checked packages
	dirty  map[string]bool     // packages that must be re-checked
	facts  *Facts              // analysis facts of the checked packages
	joins  int                 // whole-module steps run, for tests
	joined moduleResult        // of the whole-module step of the last run
	// moduleStale is set when a package was re-checked after joined was
	// computed.
	moduleStale bool
	// last is read without mu, so that requests never wait for a run.
	last atomic.Pointer[Snapshot]
}

// NewModule returns the module rooted at dir (an absolute directory that
// holds go.mod). Nothing is loaded until the first Analyze.
func NewModule(dir string, cfg Config) *Module {
	return &Module{
		Dir:   filepath.Clean(dir),
		cfg:   cfg,
		sizes: types.SizesFor("gc", goarch(cfg.Env)),
		dirty: make(map[string]bool),
		disk:  make(map[string][]byte),
		facts: NewFacts(),
	}
}

// goarch is the target architecture of env (its last GOARCH setting), for
// type sizes.
func goarch(env []string) string {
	arch := goruntime.GOARCH
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOARCH="); ok && v != "" {
			arch = v
		}
	}
	return arch
}

// Contains reports whether filename belongs to this module's tree (it may
// still belong to a nested module: callers pick the deepest root).
func (m *Module) Contains(filename string) bool {
	rel, err := filepath.Rel(m.Dir, filename)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Snapshot returns the result of the last completed analysis, or nil.
func (m *Module) Snapshot() *Snapshot {
	return m.last.Load()
}

// FileChange is a change of a file on disk.
type FileChange struct {
	Name    string
	Created bool
	Deleted bool
}

// DidChangeFiles records changes on disk: go.mod and go.sum changes and
// created or deleted Go files reload the metadata; a changed Go file is
// re-read and its package re-checked at the next Analyze. It does not wait
// for an analysis in progress.
func (m *Module) DidChangeFiles(changes []FileChange) {
	m.reqMu.Lock()
	defer m.reqMu.Unlock()
	m.reqChanges = append(m.reqChanges, changes...)
}

// Analyze brings the module up to date with overlays (open buffers, by
// filename) and returns a snapshot. It re-checks the dirty packages and
// their reverse dependencies, in dependency order, and then reruns the
// whole-module rules. When ctx is cancelled it stops between packages and
// returns ctx's error; the work that remains stays pending for the next run.
func (m *Module) Analyze(ctx context.Context, overlays map[string][]byte) (*Snapshot, error) {
	return m.AnalyzeEarly(ctx, overlays, nil)
}

// AnalyzeEarly is Analyze, and when the packages of the open buffers (and
// their dependencies) are done while other packages remain to be checked,
// as on the first run, it calls early with a partial snapshot: the open
// buffers' packages with their per-package findings, without the
// whole-module rules, which need every package.
func (m *Module) AnalyzeEarly(ctx context.Context, overlays map[string][]byte, early func(*Snapshot)) (*Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()

	// Metadata loaded by Metadata for these very overlays, with no change
	// on disk since, is as good as loaded now.
	m.reqMu.Lock()
	fresh := m.fresh && len(m.reqChanges) == 0 && maps.EqualFunc(overlays, m.freshOverlays, bytes.Equal)
	m.reqMu.Unlock()
	m.fresh, m.freshOverlays = false, nil

	m.applyChanges()
	m.diffOverlays(overlays)
	if !m.loaded || m.needReload {
		if err := m.reload(ctx, overlays); err != nil {
			return nil, err
		}
		fresh = true
	}
	return m.analyzeLoaded(ctx, overlays, fresh, early)
}

// Metadata loads the package metadata unless it is loaded, and returns
// the go command's listing it came from and the names of the module's
// source files, sorted: what a cache of findings is keyed by. A later
// Analyze with the same overlays does not load again.
func (m *Module) Metadata(ctx context.Context, overlays map[string][]byte) (listing []byte, files []string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.applyChanges()
	m.diffOverlays(overlays)
	if !m.loaded || m.needReload {
		if err := m.reload(ctx, overlays); err != nil {
			return nil, nil, err
		}
		m.fresh, m.freshOverlays = true, maps.Clone(overlays)
	}
	return m.listing, slices.Sorted(maps.Keys(m.owner)), nil
}

// analyzeLoaded is the rest of AnalyzeEarly once the metadata is loaded;
// m.mu is held.
func (m *Module) analyzeLoaded(ctx context.Context, overlays map[string][]byte, fresh bool, early func(*Snapshot)) (*Snapshot, error) {
	// Unless the metadata was just loaded, parse dirty packages first to
	// find imports it lacks (an import added in an unsaved buffer): those
	// need a reload.
	if !fresh {
		for p := range m.dirty {
			mp := m.meta[p]
			if mp == nil {
				continue
			}
			if m.importsChanged(mp, overlays) {
				if err := m.reload(ctx, overlays); err != nil {
					return nil, err
				}
				break
			}
		}
	}

	// The dirty set grows to the importers of a package whose API or
	// facts changed as the check goes (checkWaves): an edit inside a
	// function, a comment or a resource's settings re-checks one package.

	checked, err := m.checkDirty(ctx, overlays, early)
	if err != nil {
		return nil, err
	}

	all := sortedPackages(m.pkgs)
	// Packages re-checked by a run that was then cancelled count too.
	if m.moduleStale || m.last.Load() == nil {
		m.joined = m.moduleStep(all)
		m.joins++
		m.moduleStale = false
	}
	snap := m.snapshot(checked)
	m.last.Store(snap)
	return snap, nil
}
