// Package cpu holds the functions of the CPU load balancer: a health check
// and two text utilities.
package cpu

import (
	"context"
	"errors"
	"strings"
	"unicode"

	_ "example.com/quickstart/res"
)

// Health reports the worker's state.
type Health struct {
	Status string `json:"status"`
	Worker string `json:"worker"`
}

// HealthCheck answers GET /health.
//
//flash:remote res.CPU method=GET path=/health
func HealthCheck() Health {
	return Health{Status: "healthy", Worker: "cpu"}
}

// Validation is the verdict on a text.
type Validation struct {
	Valid  bool     `json:"valid"`
	Length int      `json:"length"`
	Words  int      `json:"words"`
	Issues []string `json:"issues"`
}

// Validate checks that text is non-empty, printable and at most 1000 bytes.
//
//flash:remote res.CPU method=POST path=/validate
func Validate(text string) (Validation, error) {
	v := Validation{Length: len(text), Words: len(strings.Fields(text)), Issues: []string{}}
	if strings.TrimSpace(text) == "" {
		v.Issues = append(v.Issues, "text is empty")
	}
	if len(text) > 1000 {
		v.Issues = append(v.Issues, "text is longer than 1000 bytes")
	}
	if strings.IndexFunc(text, func(r rune) bool { return !unicode.IsPrint(r) && !unicode.IsSpace(r) }) >= 0 {
		v.Issues = append(v.Issues, "text has unprintable characters")
	}
	v.Valid = len(v.Issues) == 0
	return v, nil
}

// Transformed is the result of a transformation.
type Transformed struct {
	Original  string `json:"original"`
	Result    string `json:"result"`
	Operation string `json:"operation"`
}

// ErrUnknownOperation is returned for an operation Transform does not know.
var ErrUnknownOperation = errors.New("unknown operation: want uppercase, lowercase, title or reverse")

// Transform applies operation (default "uppercase") to text.
//
//flash:remote res.CPU method=POST path=/transform
func Transform(ctx context.Context, text string, operation *string) (Transformed, error) {
	op := "uppercase"
	if operation != nil {
		op = *operation
	}
	out := Transformed{Original: text, Operation: op}
	switch op {
	case "uppercase":
		out.Result = strings.ToUpper(text)
	case "lowercase":
		out.Result = strings.ToLower(text)
	case "title":
		words := strings.Fields(text)
		for i, w := range words {
			r := []rune(w)
			r[0] = unicode.ToUpper(r[0])
			words[i] = string(r)
		}
		out.Result = strings.Join(words, " ")
	case "reverse":
		r := []rune(text)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		out.Result = string(r)
	default:
		return Transformed{}, ErrUnknownOperation
	}
	return out, ctx.Err()
}
