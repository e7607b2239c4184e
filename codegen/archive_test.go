package codegen

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteArchiveReproducible(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "binary")
	if err := os.WriteFile(bin, []byte("\x7fELF..."), 0o700); err != nil {
		t.Fatal(err)
	}
	entries := []ArchiveEntry{
		{Name: "flash_manifest.json", Mode: 0o644, Data: []byte("{}\n")},
		{Name: "bin/b", Mode: 0o755, File: bin},
		{Name: "bin/a", Mode: 0o755, Data: []byte("a")},
	}
	mtime := time.Unix(1700000000, 0)
	a1, a2 := filepath.Join(dir, "one.tar.gz"), filepath.Join(dir, "two.tar.gz")
	if _, err := WriteArchive(a1, entries, mtime); err != nil {
		t.Fatal(err)
	}
	// Touch the input and reverse the order: neither may show.
	os.Chtimes(bin, time.Now(), time.Now())
	rev := []ArchiveEntry{entries[2], entries[1], entries[0]}
	size, err := WriteArchive(a2, rev, mtime)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := os.ReadFile(a1)
	d2, _ := os.ReadFile(a2)
	if !bytes.Equal(d1, d2) {
		t.Fatal("two archives of the same entries differ")
	}
	if size != int64(len(d2)) {
		t.Errorf("size = %d, file has %d bytes", size, len(d2))
	}

	zr, err := gzip.NewReader(bytes.NewReader(d1))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header has name %q, mtime %v", zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d/%d %q/%q", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(mtime) {
			t.Errorf("%s: mtime %v, want %v", h.Name, h.ModTime, mtime)
		}
		if h.Name == "bin/b" {
			data, _ := io.ReadAll(tr)
			if string(data) != "\x7fELF..." || h.Mode != 0o755 {
				t.Errorf("bin/b: mode %o, data %q", h.Mode, data)
			}
		}
	}
	want := []string{"bin/", "bin/a", "bin/b", "flash_manifest.json"}
	if len(names) != len(want) {
		t.Fatalf("entries %q, want %q", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("entries %q, want %q", names, want)
		}
	}
}

func TestWriteArchiveFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "archive.tar.gz")
	_, err := WriteArchive(dest, []ArchiveEntry{{Name: "bin/x", File: filepath.Join(dir, "missing")}}, time.Time{})
	if err == nil {
		t.Fatal("archive of a missing file succeeded")
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Errorf("failed archive left %v", left)
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{12: "12 B", 5_200_000: "5.2 MB", 1500: "1.5 kB", 3_000_000_000: "3.0 GB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// A failed compilation leaves the previous archive untouched and no build
// directory behind.
func TestBuildFailureKeepsPreviousArchive(t *testing.T) {
	root := t.TempDir() // no go.mod: the handlers cannot compile
	res, err := Generate(testProject(root), Options{NoClient: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Write(); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(root, ".flash", DefaultArchive)
	if err := os.WriteFile(archive, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(context.Background(), res, BuildOptions{}); err == nil {
		t.Fatal("Build succeeded without a module")
	} else if !strings.Contains(err.Error(), "compiling handler") {
		t.Errorf("error = %v", err)
	}
	if data, _ := os.ReadFile(archive); string(data) != "previous" {
		t.Errorf("archive = %q after a failed build", data)
	}
	if _, err := os.Stat(filepath.Join(root, BuildDir)); !os.IsNotExist(err) {
		t.Errorf("%s left behind: %v", BuildDir, err)
	}
	left, _ := os.ReadDir(filepath.Join(root, ".flash"))
	for _, e := range left {
		if strings.HasPrefix(e.Name(), ".archive") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
