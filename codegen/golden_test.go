package codegen

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenEpoch is SOURCE_DATE_EPOCH for golden files.
var goldenEpoch = time.Unix(1700000000, 0)

// TestGoldenQuickstart compares the manifest and every handler generated for
// testdata/projects/quickstart with testdata/golden/quickstart (go test
// ./codegen -update rewrites them).
func TestGoldenQuickstart(t *testing.T) { checkGolden(t, "quickstart") }

// TestGoldenStreaming does the same for testdata/projects/streaming, whose
// functions stream their results (SPEC 18): handlers wrap them in
// runtime.StreamOf, clients return iter.Seq2, the manifest says is_stream
// and the OpenAPI document describes NDJSON items.
func TestGoldenStreaming(t *testing.T) { checkGolden(t, "streaming") }

// checkGolden compares what generate writes for testdata/projects/<name>
// with testdata/golden/<name>.
func checkGolden(t *testing.T, name string) {
	if testing.Short() {
		t.Skip("loads a module with the go command")
	}
	l, err := Load(context.Background(), filepath.Join("..", "testdata", "projects", name), DefaultTarget)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range l.Findings {
		t.Logf("finding: %s", l.FormatFinding(".", f))
	}
	if b := l.Blocking(true); len(b) > 0 {
		t.Fatalf("%s has %d error findings", name, len(b))
	}
	res, err := Generate(l.Project, Options{GeneratedAt: goldenEpoch})
	if err != nil {
		t.Fatal(err)
	}
	goldenDir := filepath.Join("testdata", "golden", name)
	want := make(map[string]bool)
	for _, f := range res.Files {
		if strings.HasSuffix(f.Path, ".go") {
			assertGofmt(t, f.Path, f.Data)
		}
		rel := strings.TrimPrefix(f.Path, ".flash/") + ".golden"
		want[filepath.FromSlash(rel)] = true
		golden := filepath.Join(goldenDir, filepath.FromSlash(rel))
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(golden)
		if err != nil {
			t.Errorf("%s: %v (run go test ./codegen -update)", f.Path, err)
			continue
		}
		if !bytes.Equal(old, f.Data) {
			t.Errorf("%s differs from %s (run go test ./codegen -update and review the diff)\n%s",
				f.Path, golden, firstDiff(string(old), string(f.Data)))
		}
	}
	// No golden file may outlive its resource.
	filepath.WalkDir(goldenDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(goldenDir, p)
		if !want[rel] {
			if *update {
				return os.Remove(p)
			}
			t.Errorf("golden file %s matches no generated file", rel)
		}
		return nil
	})
}

// firstDiff shows the first line where two texts differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n  golden: " + x + "\n  now:    " + y
		}
	}
	return ""
}
