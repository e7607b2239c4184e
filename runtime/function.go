package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
)

// Function is one remote function, as a generated handler registers it.
type Function struct {
	Name   string  // qualified name: "example.com/app/api.ProcessData"
	Method string  // load-balanced only: "POST"
	Path   string  // load-balanced only: gorilla/mux template "/items/{id}"
	Params []Param // context excluded, in declaration order
	// NoResult is set when the function returns nothing or only an error:
	// success is then 204 on a route (and result null in /execute and jobs).
	NoResult bool
	// Call binds the parameters from in and calls the user's function directly.
	Call func(ctx context.Context, in *Input) (any, error)
}

// Param is one parameter of a Function (context excluded).
type Param struct {
	Name     string
	In       string // "path", "query", "body" (load-balanced routes) or "arg" (queue functions)
	Optional bool   // pointer parameter
}

// App describes one handler binary; the generator writes it in the
// handler's main().
type App struct {
	Resource  Resource // the user's resource variable (api.API); value or pointer
	Functions []Function
	Manifest  []byte // flash_manifest.json as embedded by the generator (no generated_at)
	// OpenAPI is the resource's OpenAPI document, which a load-balanced
	// handler serves at GET /openapi.json.
	OpenAPI []byte
}

// bareName is the unqualified name of a qualified function name.
func bareName(qualified string) string {
	if i := strings.LastIndexByte(qualified, '.'); i >= 0 && !strings.Contains(qualified[i:], "/") {
		return qualified[i+1:]
	}
	return qualified
}

// registry resolves the function names of /execute and queue jobs: the
// qualified name, or the bare name when it is unique.
type registry struct {
	byName    map[string]*Function
	ambiguous map[string]bool // bare names that several functions share
	names     []string        // qualified, sorted: the "Available" list
}

func newRegistry(fns []Function) *registry {
	r := &registry{byName: make(map[string]*Function)}
	bare := make(map[string]int)
	for i := range fns {
		fn := &fns[i]
		r.byName[fn.Name] = fn
		r.names = append(r.names, fn.Name)
		bare[bareName(fn.Name)]++
	}
	r.ambiguous = make(map[string]bool)
	for i := range fns {
		fn := &fns[i]
		b := bareName(fn.Name)
		if bare[b] > 1 {
			r.ambiguous[b] = true
		} else if _, taken := r.byName[b]; !taken {
			r.byName[b] = fn
		}
	}
	slices.Sort(r.names)
	return r
}

func (r *registry) lookup(name string) (*Function, error) {
	if fn, ok := r.byName[name]; ok {
		return fn, nil
	}
	hint := ""
	if r.ambiguous[name] {
		hint = fmt.Sprintf(" (several functions are named %s: use a qualified name)", name)
	}
	return nil, fmt.Errorf("Function '%s' not found in registry%s. Available: %s", name, hint, quoteList(r.names))
}

// result is RESULT of /execute and queue jobs:
// {"success": true, "result": ...} or
// {"success": false, "error": "...", "traceback": "..."}.
type result struct {
	Success   bool
	Result    json.RawMessage
	Error     string
	Traceback string
}

func (r result) MarshalJSON() ([]byte, error) {
	if r.Success {
		v := r.Result
		if len(v) == 0 {
			v = json.RawMessage("null")
		}
		return json.Marshal(struct {
			Success bool            `json:"success"`
			Result  json.RawMessage `json:"result"`
		}{true, v})
	}
	return json.Marshal(struct {
		Success   bool   `json:"success"`
		Error     string `json:"error"`
		Traceback string `json:"traceback"`
	}{false, r.Error, r.Traceback})
}

func failure(err error) result {
	return result{Error: err.Error(), Traceback: traceback(err)}
}

// traceback describes err for the "traceback" of a failed call: the stack
// of a panic, otherwise the chain of wrapped errors with their types.
func traceback(err error) string {
	var pe *panicError
	if errors.As(err, &pe) {
		return pe.stack
	}
	var b strings.Builder
	for e := err; e != nil; e = errors.Unwrap(e) {
		fmt.Fprintf(&b, "%T: %s\n", e, e.Error())
	}
	return b.String()
}

// execute runs one /execute or queue envelope and never fails: every
// problem, the input's included, is a result with success false.
func (r *registry) execute(ctx context.Context, input json.RawMessage) result {
	res, _ := r.run(ctx, input)
	return res
}

// run is execute, and the function it called (nil when the input named
// none that exists).
func (r *registry) run(ctx context.Context, input json.RawMessage) (result, *Function) {
	var env envelope
	trimmed := strings.TrimSpace(string(input))
	if trimmed == "" || trimmed == "null" {
		return failure(errors.New("input is null: want an object {\"function_name\", \"args\", \"kwargs\"}")), nil
	}
	if trimmed[0] != '{' {
		return failure(fmt.Errorf("input must be a JSON object {\"function_name\", \"args\", \"kwargs\"}, got %s", jsonKind(input))), nil
	}
	if err := json.Unmarshal(input, &env); err != nil {
		return failure(fmt.Errorf("invalid input: %w", err)), nil
	}
	if env.FunctionName == nil || *env.FunctionName == "" {
		return failure(errors.New("input has no function_name")), nil
	}
	if env.ExecutionType != "" && env.ExecutionType != "function" {
		return failure(fmt.Errorf("execution_type %q is not supported: only functions are remote in Go", env.ExecutionType)), nil
	}
	fn, err := r.lookup(*env.FunctionName)
	if err != nil {
		return failure(err), nil
	}
	in, err := argsInput(fn, env.Args, env.Kwargs)
	if err != nil {
		return failure(err), fn
	}
	v, err := invoke(ctx, fn, in)
	if err != nil {
		return failure(err), fn
	}
	if st, ok := v.(*Stream); ok {
		return collect(ctx, fn, st), fn
	}
	if fn.NoResult {
		return result{Success: true}, fn
	}
	out, err := marshalJSON(v)
	if err != nil {
		return failure(fmt.Errorf("encoding the result of %s: %w", fn.Name, err)), fn
	}
	return result{Success: true, Result: out}, fn
}

// panicError is a panic of a user function, recovered.
type panicError struct {
	value any
	stack string
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// invoke calls fn, turning a panic into a *panicError so that one bad
// call never takes the process down.
func invoke(ctx context.Context, fn *Function, in *Input) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			v, err = nil, &panicError{value: p, stack: string(debug.Stack())}
		}
	}()
	if fn.Call == nil {
		return nil, fmt.Errorf("function %s has no Call", fn.Name)
	}
	return fn.Call(ctx, in)
}

// hasOwnStatus reports an error that carries its own status
// (StatusCode() int), whose message its author meant to show.
func hasOwnStatus(err error) bool {
	var sc interface{ StatusCode() int }
	return errors.As(err, &sc)
}

// errorStatus is the HTTP status of an error returned by a route call.
func errorStatus(err error) int {
	var be *BindError
	if errors.As(err, &be) {
		return http.StatusBadRequest
	}
	var sc interface{ StatusCode() int }
	if errors.As(err, &sc) {
		if code := sc.StatusCode(); code >= 400 && code <= 599 {
			return code
		}
	}
	return http.StatusInternalServerError
}
