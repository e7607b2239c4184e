package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNoModule is returned when no go.mod is found.
var ErrNoModule = errors.New("no go.mod found")

// FindModule returns the directory holding the go.mod of dir (dir itself or
// its nearest parent with one) and the module path it declares.
func FindModule(dir string) (root, modulePath, goVersion string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", "", fmt.Errorf("finding module: %w", err)
	}
	for d := abs; ; {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			mod, gov := parseGoMod(data)
			if mod == "" {
				return "", "", "", fmt.Errorf("%s: no module directive", filepath.Join(d, "go.mod"))
			}
			return d, mod, gov, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", "", "", fmt.Errorf("reading go.mod: %w", err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", "", "", fmt.Errorf("%w in %s or any parent directory", ErrNoModule, abs)
		}
		d = parent
	}
}

// parseGoMod returns the module path and go version of a go.mod file.
func parseGoMod(data []byte) (module, goVersion string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v := f[1]
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		}
		switch f[0] {
		case "module":
			if module == "" {
				module = v
			}
		case "go":
			goVersion = v
		}
	}
	return module, goVersion
}
