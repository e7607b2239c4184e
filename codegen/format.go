package codegen

import (
	"bytes"
	"fmt"
	"go/format"
	"strings"
)

// finish completes a generated Go file, the one way codegen formats Go:
// out holds the file's head (header comment, package clause, imports,
// constants) as it must appear, body the declarations after it written
// without indentation. The body is indented by brace depth, which is all
// gofmt would change in it, because go/format would cost more than
// everything else generate does on a large project. Only when a type was
// written in a form gofmt changes (im.needFormat) does the whole file go
// through go/format. Tests check that every generated file is
// gofmt-clean.
func finish(out *bytes.Buffer, body []byte, im *imports, what string) ([]byte, error) {
	indent(out, body)
	if !im.needFormat {
		return out.Bytes(), nil
	}
	src, err := format.Source(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("codegen: formatting %s: %w", what, err)
	}
	return src, nil
}

// indent writes src to w with each line indented by tabs to its brace
// depth: a line starting with '}' closes a level, a line ending with '{'
// opens one. It suits the generated statements, which never split a
// bracket pair across lines otherwise.
func indent(w *bytes.Buffer, src []byte) {
	depth := 0
	for len(src) > 0 {
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		if len(line) == 0 {
			w.WriteByte('\n')
			continue
		}
		if line[0] == '}' && depth > 0 {
			depth--
		}
		for range depth {
			w.WriteByte('\t')
		}
		w.Write(line)
		w.WriteByte('\n')
		if line[len(line)-1] == '{' {
			depth++
		}
	}
}

// canonicalType formats a type literal with a body (struct{A int}) as gofmt
// does (struct{ A int }); types.TypeString does not. It reports false when
// gofmt would spread the type over several lines (a struct of several
// fields): the caller must then format the whole file.
func canonicalType(s string) (string, bool) {
	const prefix = "package p\n\nvar _ "
	out, err := format.Source([]byte(prefix + s + "\n"))
	if err != nil {
		return s, false
	}
	t := strings.TrimSuffix(strings.TrimPrefix(string(out), prefix), "\n")
	if strings.Contains(t, "\n") {
		return s, false
	}
	return t, true
}
