package codegen

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// BuildDir holds compiled handlers while build runs, relative to the module
// root.
const BuildDir = ".flash/.build"

// DefaultArchive is the archive's default name, inside .flash.
const DefaultArchive = "archive.tar.gz"

// Target is the platform handlers are loaded and compiled for.
type Target struct {
	GOOS, GOARCH string
}

// DefaultTarget is what RunPod runs: linux/amd64.
var DefaultTarget = Target{GOOS: "linux", GOARCH: "amd64"}

// Env returns the environment variables selecting the target, cgo off.
func (t Target) Env() []string {
	return []string{"GOOS=" + t.GOOS, "GOARCH=" + t.GOARCH, "CGO_ENABLED=0"}
}

func (t Target) String() string { return t.GOOS + "/" + t.GOARCH }

// Compile runs `go build -trimpath` on the handler of the resource whose
// directory is dir, inside the module at root, writing the binary to out.
// The go command's output is part of the error.
func Compile(ctx context.Context, root, dir, out string, t Target) error {
	return compilePkg(ctx, root, "./"+path.Join(HandlersDir, dir), out, t)
}

func compilePkg(ctx context.Context, root, pkg, out string, t Target) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), t.Env()...)
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return fmt.Errorf("go build %s: %w", pkg, err)
		}
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return nil
}

// CompileLive compiles the live variant of the handler of the resource
// whose directory is dir (see `flash-lsp run`): a deployed resource is
// converted to its live type, so that POST /execute is served. The source
// is written under .flash/.build/run and removed afterwards.
func CompileLive(ctx context.Context, res *Result, dir, out string, t Target) error {
	in, ok := res.inputs[dir]
	if !ok {
		return fmt.Errorf("no resource with handler directory %q", dir)
	}
	src, err := handler(in.res, in.fns, res.embedded, in.openAPI, true)
	if err != nil {
		return err
	}
	return compileSource(ctx, res, path.Join(BuildDir, "run", dir), src, out, t)
}

// compileSource writes src as main.go of the package rel (under BuildDir),
// compiles it to out and removes the package again, all under the
// writers' lock and after the symlink checks of SPEC section 14.
func compileSource(ctx context.Context, res *Result, rel string, src []byte, out string, t Target) error {
	lk, err := AcquireLock(res.Root)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	if err := CheckBuildDir(res.Root, rel); err != nil {
		return err
	}
	srcDir := res.abs(rel)
	if err := WriteFileAtomic(filepath.Join(srcDir, "main.go"), src, 0o644); err != nil {
		return err
	}
	// .flash/.build is flash-lsp's own (checked above): removing it
	// whole is allowed.
	defer os.RemoveAll(srcDir)
	return compilePkg(ctx, res.Root, "./"+rel, out, t)
}

// BuildOptions adjust Build.
type BuildOptions struct {
	Target Target
	// Archive is the archive's file name inside .flash (DefaultArchive when
	// empty).
	Archive string
	// KeepBuild keeps .flash/.build after a successful build.
	KeepBuild bool
	// Jobs is how many handlers compile at once (2 when zero).
	Jobs int
	// ModTime is the mtime of every archive entry (SOURCE_DATE_EPOCH; the
	// zero time means the Unix epoch).
	ModTime time.Time
	// Progress, when set, is called as compilation starts (done 0) and
	// after each handler compiles, from one goroutine at a time.
	Progress func(done, total int)
	// Lock, when set, is the writers' lock of the module, held by the
	// caller; otherwise Build takes it for its duration.
	Lock *WriteLock
}

// BuildResult describes a finished build.
type BuildResult struct {
	Archive string // absolute path
	Size    int64
	// Handlers are the compiled resources' directory names, sorted.
	Handlers []string
}

// CheckArchiveName reports whether name may be build's archive: a file
// name (the archive is written inside .flash) that no file of flash-lsp's
// own there has.
func CheckArchiveName(name string) error {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return fmt.Errorf("archive name %q must be a file name, not a path (the archive is written inside .flash)", name)
	}
	if slices.Contains(flashOwnNames, name) {
		return fmt.Errorf("archive name %q is taken by a file of flash-lsp's own in .flash", name)
	}
	return nil
}

// Build compiles every handler of res, which must have been written, and
// packages them with the manifest into .flash/<archive>. The archive is
// written atomically: a failure leaves the previous one, or none.
func Build(ctx context.Context, res *Result, opts BuildOptions) (*BuildResult, error) {
	if opts.Target.GOOS == "" || opts.Target.GOARCH == "" {
		opts.Target = DefaultTarget
	}
	if opts.Archive == "" {
		opts.Archive = DefaultArchive
	}
	if err := CheckArchiveName(opts.Archive); err != nil {
		return nil, err
	}
	if opts.Lock == nil {
		lk, err := AcquireLock(res.Root)
		if err != nil {
			return nil, err
		}
		defer lk.Unlock()
	} else if err := opts.Lock.held(res.Root); err != nil {
		return nil, err
	}
	if err := CheckBuildDir(res.Root, path.Join(BuildDir, "bin")); err != nil {
		return nil, err
	}
	dest := res.abs(path.Join(FlashDir, opts.Archive))
	if fi, err := os.Lstat(dest); err == nil && !fi.Mode().IsRegular() {
		return nil, &ConflictError{Conflicts: []Conflict{{path.Join(FlashDir, opts.Archive), "exists and is not a regular file"}}}
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = 2
	}
	buildDir := res.abs(BuildDir)
	binDir := filepath.Join(buildDir, "bin")
	if err := os.RemoveAll(buildDir); err != nil {
		return nil, fmt.Errorf("cleaning %s: %w", BuildDir, err)
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", BuildDir, err)
	}
	if !opts.KeepBuild {
		// Failed builds clean up too.
		defer os.RemoveAll(buildDir)
	}

	dirs := make([]string, 0, len(res.Handlers))
	for d := range res.Handlers {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(dirs))
	sem := make(chan struct{}, jobs)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		compiled int
	)
	if opts.Progress != nil {
		opts.Progress(0, len(dirs))
	}
	for i, d := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			out := filepath.Join(binDir, d)
			if err := Compile(ctx, res.Root, d, out, opts.Target); err != nil {
				errs[i] = fmt.Errorf("compiling handler %s: %w", d, err)
				cancel() // one failure is enough: stop the others
				return
			}
			if opts.Progress != nil {
				mu.Lock()
				compiled++
				opts.Progress(compiled, len(dirs))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// Report the first real failure, not the cancellations it caused.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	manifest, err := os.ReadFile(res.abs(ManifestPath))
	if err != nil {
		return nil, fmt.Errorf("reading the manifest: %w", err)
	}
	entries := []ArchiveEntry{{Name: "flash_manifest.json", Mode: 0o644, Data: manifest}}
	for _, d := range dirs {
		entries = append(entries, ArchiveEntry{Name: "bin/" + d, Mode: 0o755, File: filepath.Join(binDir, d)})
	}
	size, err := WriteArchive(dest, entries, opts.ModTime)
	if err != nil {
		return nil, err
	}
	if !opts.KeepBuild {
		if err := os.RemoveAll(buildDir); err != nil {
			return nil, fmt.Errorf("removing %s: %w", BuildDir, err)
		}
	}
	return &BuildResult{Archive: dest, Size: size, Handlers: dirs}, nil
}

// ArchiveEntry is one regular file of an archive: Data, or the contents of
// File.
type ArchiveEntry struct {
	Name string // slash-separated
	Mode int64
	Data []byte
	File string
}

// WriteArchive writes a reproducible tar.gz to dest, atomically: entries
// sorted by name, with their parent directories; every mtime modTime (the
// Unix epoch when zero); uid and gid 0 and no user or group names; a gzip
// header without name or mtime. It returns the archive's size.
func WriteArchive(dest string, entries []ArchiveEntry, modTime time.Time) (size int64, err error) {
	if modTime.IsZero() {
		modTime = time.Unix(0, 0)
	}
	modTime = modTime.UTC()
	entries = append([]ArchiveEntry(nil), entries...)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })

	dir := filepath.Dir(dest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(dest)+".tmp*")
	if err != nil {
		return 0, fmt.Errorf("creating archive: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	gz, err := gzip.NewWriterLevel(tmp, gzip.DefaultCompression)
	if err != nil {
		return 0, fmt.Errorf("creating archive: %w", err)
	}
	tw := tar.NewWriter(gz)
	seenDir := make(map[string]bool)
	for _, e := range entries {
		if e.Name == "" || strings.HasPrefix(e.Name, "/") || strings.Contains(e.Name, "..") {
			return 0, fmt.Errorf("bad archive entry name %q", e.Name)
		}
		// Directories first, so that extracting tools create them with
		// known modes.
		for d := path.Dir(e.Name); d != "." && !seenDir[d]; d = path.Dir(d) {
			seenDir[d] = true
			if err := tw.WriteHeader(header(d+"/", tar.TypeDir, 0o755, 0, modTime)); err != nil {
				return 0, fmt.Errorf("writing archive: %w", err)
			}
		}
		data := e.Data
		if e.File != "" {
			if data, err = os.ReadFile(e.File); err != nil {
				return 0, fmt.Errorf("adding %s to the archive: %w", e.Name, err)
			}
		}
		if err := tw.WriteHeader(header(e.Name, tar.TypeReg, e.Mode, int64(len(data)), modTime)); err != nil {
			return 0, fmt.Errorf("writing archive: %w", err)
		}
		if _, err := tw.Write(data); err != nil {
			return 0, fmt.Errorf("writing archive: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return 0, fmt.Errorf("writing archive: %w", err)
	}
	if err := gz.Close(); err != nil {
		return 0, fmt.Errorf("writing archive: %w", err)
	}
	if size, err = tmp.Seek(0, io.SeekCurrent); err != nil {
		return 0, fmt.Errorf("writing archive: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return 0, fmt.Errorf("writing archive: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("writing archive: %w", err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return 0, fmt.Errorf("writing archive: %w", err)
	}
	return size, nil
}

func header(name string, typ byte, mode, size int64, modTime time.Time) *tar.Header {
	return &tar.Header{
		Typeflag: typ,
		Name:     name,
		Mode:     mode,
		Size:     size,
		ModTime:  modTime,
	}
}

// FormatSize formats a byte count the way build reports the archive:
// "5.2 MB".
func FormatSize(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
