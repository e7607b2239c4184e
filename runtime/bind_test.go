package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func textInput(name string, vals ...string) *Input {
	return &Input{fields: []field{{name: name, text: vals}}}
}

func jsonInput(name, raw string) *Input {
	return &Input{fields: []field{{name: name, raw: raw, isJSON: true}}}
}

type nameT string
type flagT bool
type smallT int8
type idsT []uint32

// bindCase runs one bind call and compares the outcome.
type bindCase struct {
	name string
	run  func() (any, error)
	want any    // the bound value, when errHas is ""
	errH string // substring of the *BindError
}

func checkBind(t *testing.T, tests []bindCase) {
	t.Helper()
	for _, tt := range tests {
		got, err := tt.run()
		if tt.errH != "" {
			var be *BindError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), tt.errH) {
				t.Errorf("%s: got %v (%v), want a *BindError containing %q", tt.name, got, err, tt.errH)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %#v, %v; want %#v", tt.name, got, err, tt.want)
		}
	}
}

func bindOne[T any](bind func(*Input, string, *T) error, in *Input) func() (any, error) {
	return func() (any, error) {
		var v T
		err := bind(in, "p", &v)
		return v, err
	}
}

func TestBindScalars(t *testing.T) {
	checkBind(t, []bindCase{
		{"string text", bindOne(String[string], textInput("p", "a b")), "a b", ""},
		{"named string json", bindOne(String[nameT], jsonInput("p", `"x\"y\u00e9"`)), nameT(`x"yé`), ""},
		{"string json fast path", bindOne(String[string], jsonInput("p", `"plain"`)), "plain", ""},
		{"string from number", bindOne(String[string], jsonInput("p", `5`)), nil, `parameter "p": want a string, got a number`},
		{"missing", bindOne(String[string], &Input{}), nil, `parameter "p": required parameter is missing`},
		{"null", bindOne(String[string], jsonInput("p", `null`)), nil, "required"},
		{"empty query value is a value", bindOne(String[string], textInput("p", "")), "", ""},
		{"bool text", bindOne(Bool[flagT], textInput("p", "T")), flagT(true), ""},
		{"bool json", bindOne(Bool[bool], jsonInput("p", `false`)), false, ""},
		{"bool json string", bindOne(Bool[bool], jsonInput("p", `"true"`)), nil, "want a boolean, got a string"},
		{"int8 text", bindOne(Int[smallT], textInput("p", "-128")), smallT(-128), ""},
		{"int8 overflow", bindOne(Int[smallT], textInput("p", "128")), nil, "128 overflows runtime.smallT"},
		{"int64 json", bindOne(Int[int64], jsonInput("p", `-9223372036854775808`)), int64(-9223372036854775808), ""},
		{"int64 overflow json", bindOne(Int[int64], jsonInput("p", `9223372036854775808`)), nil, "overflows int64"},
		{"int text plus", bindOne(Int[int], textInput("p", "+5")), 5, ""},
		{"int json plus", bindOne(Int[int], jsonInput("p", `+5`)), nil, "want a number"},
		{"int json exponent", bindOne(Int[int], jsonInput("p", `1e3`)), nil, "want an integer, got 1e3"},
		{"int json leading zero", bindOne(Int[int], jsonInput("p", `05`)), nil, "want a number"},
		{"int text garbage", bindOne(Int[int], textInput("p", "5x")), nil, `want an integer, got "5x"`},
		{"uint negative", bindOne(Uint[uint], jsonInput("p", `-1`)), nil, "want a non-negative integer"},
		{"uintptr", bindOne(Uint[uintptr], textInput("p", "42")), uintptr(42), ""},
		{"uint8 overflow", bindOne(Uint[uint8], jsonInput("p", `256`)), nil, "256 overflows uint8"},
		{"float32", bindOne(Float[float32], jsonInput("p", `1.5e2`)), float32(150), ""},
		{"float32 overflow", bindOne(Float[float32], textInput("p", "1e39")), nil, "overflows float32"},
		{"float64 json int", bindOne(Float[float64], jsonInput("p", `-0`)), 0.0, ""},
		{"float inf text", bindOne(Float[float64], textInput("p", "+Inf")), nil, "finite"},
		{"float json string", bindOne(Float[float64], jsonInput("p", `"1"`)), nil, "want a number, got a string"},
	})
}

func TestBindSlicesAndText(t *testing.T) {
	when := time.Date(2026, 1, 8, 19, 12, 33, 0, time.UTC)
	checkBind(t, []bindCase{
		{"strings text", bindOne(Strings[[]nameT], textInput("p", "a", "b")), []nameT{"a", "b"}, ""},
		{"strings json", bindOne(Strings[[]string], jsonInput("p", `["a", "b\n"]`)), []string{"a", "b\n"}, ""},
		{"empty json array", bindOne(Strings[[]string], jsonInput("p", `[]`)), []string{}, ""},
		{"empty json array, spaced", bindOne(Strings[[]string], jsonInput("p", " [ \n] ")), []string{}, ""},
		{"elements holding , and ]", bindOne(Strings[[]string], jsonInput("p", `[ "a,b" ,"]", "\u005d" ]`)), []string{"a,b", "]", "]"}, ""},
		{"nested elements", bindOne(Texts[[]rawJSON], jsonInput("p", `[{"a": [1, 2]}, [3], 4]`)), []rawJSON{`{"a": [1, 2]}`, `[3]`, `4`}, ""},
		{"array with data after it", bindOne(Ints[[]int], jsonInput("p", `[1] [2]`)), nil, "want an array"},
		{"unclosed array", bindOne(Ints[[]int], jsonInput("p", `[1, 2`)), nil, "want an array"},
		{"strings not array", bindOne(Strings[[]string], jsonInput("p", `"a"`)), nil, "want an array, got a string"},
		{"bools", bindOne(Bools[[]bool], textInput("p", "true", "0")), []bool{true, false}, ""},
		{"ints element error", bindOne(Ints[[]int], jsonInput("p", `[1, "2"]`)), nil, "element 1: want a number"},
		{"uints named", bindOne(Uints[idsT], textInput("p", "1", "2")), idsT{1, 2}, ""},
		{"uints text error", bindOne(Uints[idsT], textInput("p", "1", "x")), nil, `value 2: want a non-negative integer, got "x"`},
		{"floats", bindOne(Floats[[]float32], jsonInput("p", `[1, 2.5]`)), []float32{1, 2.5}, ""},
		{"texts", bindOne(Texts[[]level], textInput("p", "low", "high")), []level{1, 2}, ""},
		{"texts json", bindOne(Texts[[]level], jsonInput("p", `["high"]`)), []level{2}, ""},
		{"texts json Unmarshaler", bindOne(Texts[[]time.Time], jsonInput("p", `["2026-01-08T19:12:33Z"]`)), []time.Time{when}, ""},
		{"text", func() (any, error) { var l level; err := Text(textInput("p", "high"), "p", &l); return l, err }, level(2), ""},
		{"text json string", func() (any, error) { var l level; err := Text(jsonInput("p", `"low"`), "p", &l); return l, err }, level(1), ""},
		{"text json number", func() (any, error) { var l level; err := Text(jsonInput("p", `1`), "p", &l); return l, err }, nil, "want a string"},
		{"text time json", func() (any, error) {
			var v time.Time
			err := Text(jsonInput("p", `"2026-01-08T19:12:33Z"`), "p", &v)
			return v, err
		}, when, ""},
		{"text time bad", func() (any, error) { var v time.Time; err := Text(textInput("p", "yesterday"), "p", &v); return v, err }, nil, `parameter "p"`},
		{"json struct", func() (any, error) {
			var v item
			err := JSON(jsonInput("p", `{"id": "a", "verbose": true}`), "p", &v)
			return v, err
		}, item{"a", true}, ""},
		{"json unknown nested field", func() (any, error) { var v item; err := JSON(jsonInput("p", `{"idx": "a"}`), "p", &v); return v, err }, nil, `unknown field "idx"`},
		{"json trailing data", func() (any, error) { var v []int; err := JSON(jsonInput("p", `[1] [2]`), "p", &v); return v, err }, nil, "data after the value"},
		{"json from text", func() (any, error) { var v []int; err := JSON(textInput("p", "[1,2]"), "p", &v); return v, err }, []int{1, 2}, ""},
		{"json string from text", func() (any, error) { var v string; err := JSON(textInput("p", "hello"), "p", &v); return v, err }, "hello", ""},
		{"json missing", func() (any, error) { var v any; err := JSON(&Input{}, "p", &v); return v, err }, nil, "required"},
	})
}

func TestHas(t *testing.T) {
	in := &Input{fields: []field{
		{name: "q", text: []string{""}},
		{name: "none", text: nil},
		{name: "n", raw: "null", isJSON: true},
		{name: "z", raw: "0", isJSON: true},
	}}
	for name, want := range map[string]bool{"q": true, "none": false, "n": false, "z": true, "absent": false} {
		if got := in.Has(name); got != want {
			t.Errorf("Has(%q) = %v", name, got)
		}
	}
	var zero Input
	if zero.Has("x") {
		t.Error("zero Input has x")
	}
}

// FuzzRouteBinding sends random bodies and query strings through the
// handler: every answer is a result or a clean 4xx, never a panic or 500.
func FuzzRouteBinding(f *testing.F) {
	for _, seed := range []struct{ body, query string }{
		{`{"x": 5, "y": 3}`, "names=a&names=b"},
		{`{"text": "hi", "options": {"a": 1}}`, "names=a&limit=-3&scores=1e3&level=low"},
		{`{"x": 1e400, "y": -0}`, "names=%zz&limit="},
		{`[`, "verbose=maybe"},
		{`{"X": null}`, ";;&&=="},
		{"\x00\xff", "scores=NaN&scores=-Inf"},
	} {
		f.Add(seed.body, seed.query)
	}
	s, err := NewLoadBalancer(App{Resource: LiveLoadBalancer{Name: "api"}, Functions: testFunctions(nil)})
	if err != nil {
		f.Fatal(err)
	}
	s.Logger = discardLogger()
	s.MaxBodyBytes = 4096
	f.Fuzz(func(t *testing.T, body, query string) {
		for _, target := range []struct{ method, path string }{
			{"POST", "/api/process"}, {"PUT", "/transform/upper"}, {"GET", "/search"}, {"GET", "/items/x"}, {"POST", "/execute"},
		} {
			req := httptest.NewRequest(target.method, "http://h"+target.path, strings.NewReader(body))
			req.URL.RawQuery = query
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			switch rec.Code {
			case http.StatusOK, http.StatusNoContent, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			default:
				t.Fatalf("%s %s?%s body %q: status %d %s", target.method, target.path, query, body, rec.Code, rec.Body)
			}
			if rec.Code != http.StatusNoContent && !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s %s: invalid JSON answer %q", target.method, target.path, rec.Body)
			}
		}
	})
}

// FuzzExecute runs random /execute envelopes and queue inputs: each is a
// result, success true or false, never a panic.
func FuzzExecute(f *testing.F) {
	for _, seed := range []string{
		`{"function_name": "ProcessData", "args": [1, 2]}`,
		`{"function_name": "example.com/app/api.Search", "kwargs": {"names": ["a"], "limit": 5, "scores": [1.5], "level": "low"}}`,
		`{"function_name": "Transform", "args": ["upper", "x", {"a": 1}]}`,
		`null`, `[]`, `"x"`, `{"function_name": 5}`, `{"function_name": "Panic"}`,
	} {
		f.Add(seed)
	}
	reg := newRegistry(queueFunctions(nil))
	f.Fuzz(func(t *testing.T, input string) {
		res := reg.execute(context.Background(), json.RawMessage(input))
		if !res.Success && res.Error == "" {
			t.Fatalf("%q: failure without an error", input)
		}
		b, err := json.Marshal(res)
		if err != nil || !json.Valid(b) {
			t.Fatalf("%q: result does not encode: %v", input, err)
		}
	})
}

func TestRouteInputUnescape(t *testing.T) {
	fn := &Function{Name: "a.F", Params: []Param{{Name: "p", In: "path"}}}
	if _, err := routeInput(fn, map[string]string{"p": "%zz"}, nil, nil, false); err == nil || !strings.Contains(err.Error(), `parameter "p": bad percent-encoding`) {
		t.Errorf("bad escape: %v", err)
	}
	in, err := routeInput(fn, map[string]string{"p": "a%2Fb%20c"}, url.Values{}, nil, false)
	var p string
	if err != nil || String(in, "p", &p) != nil || p != "a/b c" {
		t.Errorf("unescape: %q %v", p, err)
	}
}

// FuzzSplitObject checks the body splitter against encoding/json: the
// same keys with the same values, and an error exactly when the body is
// not a JSON object.
func FuzzSplitObject(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `{"a": 1, "b": [1, {"c": "]}"}], "d": "x\"y"}`, `{"\u0061": true, "a": null}`,
		` { "k" : { } } `, `{"a":1,}`, `[]`, `{"a" 1}`, `{"é": "\\"}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got := map[string]string{}
		err := splitObject([]byte(body), func(k, v string) error {
			got[k] = v
			return nil
		})
		if want := splitObjectError(body); fmt.Sprint(err) != fmt.Sprint(want) {
			t.Fatalf("%q: error %v, want %v (json.Valid's verdict)", body, err, want)
		}
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal([]byte(body), &want)
		if strings.Trim(body, " \t\n\r") == "" {
			want, wantErr = map[string]json.RawMessage{}, nil
		} else if wantErr == nil && want == nil {
			wantErr = errors.New("null is not an object")
		}
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%q: splitObject error %v, encoding/json error %v", body, err, wantErr)
		}
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%q: keys %v, want %v", body, got, want)
		}
		for k, v := range want {
			var a, b any
			if json.Unmarshal([]byte(got[k]), &a) != nil || json.Unmarshal(v, &b) != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("%q: key %q = %q, want %s", body, k, got[k], v)
			}
		}
	})
}

// FuzzBindSliceJSON: a slice bound from a JSON value, read in place,
// gets what decoding the array with encoding/json and parsing each
// element gives, error messages included.
func FuzzBindSliceJSON(f *testing.F) {
	for _, seed := range []string{`[]`, `["a", "b\"c", "\u005d,"]`, `[1, 2.5e3, -0]`, ` [ {"a": [1]} , [] ] `, `{"a": 1}`, `"x"`, `[null, true]`, `[1e400]`} {
		f.Add(seed)
	}
	ref := func(raw string, parse func(string) (any, error)) (out []any, err error) {
		var elems []json.RawMessage
		if err := json.Unmarshal([]byte(raw), &elems); err != nil {
			return nil, &BindError{Param: "p", Msg: "want an array, got " + jsonKind(raw)}
		}
		for i, e := range elems {
			v, err := parse(string(bytes.TrimSpace(e)))
			if err != nil {
				return nil, &BindError{Param: "p", Msg: fmt.Sprintf("element %d: %v", i, err)}
			}
			out = append(out, v)
		}
		return out, nil
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if !json.Valid([]byte(raw)) || isJSONNull(strings.TrimSpace(raw)) {
			return // bodies and args are valid JSON; null is a missing parameter
		}
		check := func(what string, got any, err error, parse func(string) (any, error)) {
			want, wantErr := ref(raw, parse)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("%s %q: error %v, want %v", what, raw, err, wantErr)
			}
			if err == nil && fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
				t.Fatalf("%s %q: %q, want %q", what, raw, got, want)
			}
		}
		var ss []string
		err := Strings(jsonInput("p", raw), "p", &ss)
		check("Strings", anySlice(ss), err, func(s string) (any, error) { return jsonString(s) })
		var fs []float64
		err = Floats(jsonInput("p", raw), "p", &fs)
		check("Floats", anySlice(fs), err, func(s string) (any, error) { return parseFloat[float64](true, s) })
		var rs []rawJSON
		err = Texts(jsonInput("p", raw), "p", &rs)
		check("Texts", anySlice(rs), err, func(s string) (any, error) { return rawJSON(s), nil })
	})
}

func anySlice[E any](s []E) []any {
	var out []any
	for _, e := range s {
		out = append(out, e)
	}
	return out
}

// rawJSON keeps the JSON text it is given, to show what an element was.
type rawJSON string

func (r *rawJSON) UnmarshalJSON(b []byte) error { *r = rawJSON(b); return nil }
func (r *rawJSON) UnmarshalText(b []byte) error { *r = rawJSON(b); return nil }

// splitObjectError is what splitObject must answer for body, found with
// json.Valid: the single-pass scan accepts exactly what it accepts.
func splitObjectError(body string) error {
	b := bytes.Trim([]byte(body), " \t\n\r")
	switch {
	case len(b) == 0:
		return nil
	case b[0] != '{':
		return &BindError{Param: "body", Msg: "request body must be a JSON object, got " + jsonKind(b)}
	case json.Valid(b):
		return nil
	}
	var v any
	err := json.Unmarshal(b, &v)
	msg := "invalid JSON"
	if err != nil {
		msg += ": " + strings.TrimPrefix(err.Error(), "json: ")
	}
	return &BindError{Param: "body", Msg: msg}
}

// TestSplitObjectLikeValid: the body scan's verdict and message are
// json.Valid's and encoding/json's on the cases where a hand-written JSON
// scanner goes wrong, the nesting limit included; a malformed body is
// reported as such even after a key that names no parameter.
func TestSplitObjectLikeValid(t *testing.T) {
	nest := func(n int) string { return `{"a": ` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}` }
	cases := []string{
		`{}`, ` {} `, `{ }`, `{"a":1}x`, `{"a":1}}`, `{"a":1`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1,}`, `{,}`,
		`{"a": 01}`, `{"a": -0}`, `{"a": -}`, `{"a": 1.}`, `{"a": .5}`, `{"a": 1e}`, `{"a": 1e+}`, `{"a": 1E-5}`,
		`{"a": 1.5e3}`, `{"a": +1}`, `{"a": 0x1}`, `{"a": NaN}`, `{"a": tru}`, `{"a": true}`, `{"a": truex}`,
		`{"a": nul}`, `{"a": null}`, `{"a": falsey}`, `{"a": "\u12"}`, `{"a": "\u12G4"}`, `{"a": "\u00e9"}`,
		`{"a": "\x"}`, `{"a": "\/"}`, "{\"a\": \"\x01\"}", "{\"a\": \"\xff\"}", "{\"\xff\": 1}", `{"a": "\"}`,
		`{"a": [1, 2,]}`, `{"a": [,]}`, `{"a": []}`, `{"a": [[]]}`, `{"a": {"b": }}`, `{"a": {"b" 1}}`,
		`{"a": {"b": 1,}}`, `{"a": {}}`, `{"a": [1 2]}`, `{"a": ["]"]}`, `{"a": {"}": "{"}}`, "{\"a\":\t1\r\n}",
		"{\"a\":\v1}", `{"a": 1} {}`, `{"a": "x" "y"}`, `{"a" : [ { } , [ ] , "" , 0 ] }`,
		nest(9999), nest(10000), nest(10001),
	}
	for _, body := range cases {
		err := splitObject([]byte(body), func(k, v string) error { return nil })
		if want := splitObjectError(body); fmt.Sprint(err) != fmt.Sprint(want) {
			t.Errorf("%.60q: error %v, want %v", body, err, want)
		}
	}
	fn := &Function{Name: "api.F", Params: []Param{{Name: "x", In: "body"}}}
	if _, err := routeInput(fn, nil, nil, []byte(`{"z": 1, "x": }`), true); err == nil || !strings.Contains(err.Error(), "invalid JSON") {
		t.Errorf("a malformed body with an unknown key: %v, want invalid JSON", err)
	}
}

// TestBindInference calls the bind functions the way generated code does,
// without type arguments, for named, pointer and slice types.
func TestBindInference(t *testing.T) {
	in := &Input{fields: []field{
		{name: "when", raw: `"2026-01-08T19:12:33Z"`, isJSON: true},
		{name: "levels", text: []string{"low", "high"}},
		{name: "n", text: []string{"7"}},
		{name: "ids", raw: `[1, 2]`, isJSON: true},
		{name: "item", raw: `{"id": "a"}`, isJSON: true},
	}}
	var when time.Time
	var levels []level
	var opt *[]level = new([]level)
	var n *smallT = new(smallT)
	var ids idsT
	var it *item
	for _, err := range []error{
		Text(in, "when", &when), Texts(in, "levels", &levels), Texts(in, "levels", opt),
		Int(in, "n", n), Uints(in, "ids", &ids), JSON(in, "item", &it),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if when.Year() != 2026 || len(levels) != 2 || len(*opt) != 2 || *n != 7 || len(ids) != 2 || it == nil || it.ID != "a" {
		t.Errorf("%v %v %v %v %v %+v", when, levels, *opt, *n, ids, it)
	}
}

// BenchmarkBodyBinding measures what a POST route does with its body
// before calling the function: check it is one JSON object whose keys all
// name body parameters, and split it into the parameters' raw values
// (routeInput), then decode them with the bind functions a generated
// handler calls.
//
//	go test -run '^$' -bench BenchmarkBodyBinding -benchmem ./runtime
func BenchmarkBodyBinding(b *testing.B) {
	var numbers strings.Builder
	numbers.WriteString(`{"numbers": [`)
	for i := range 1000 {
		if i > 0 {
			numbers.WriteString(", ")
		}
		fmt.Fprintf(&numbers, "%d.%03d", i, i%997)
	}
	numbers.WriteString(`], "scale": 2.5}`)
	for _, bc := range []struct {
		name   string
		params []string
		body   string
		bind   func(in *Input) error
	}{
		{"small", []string{"x", "y"}, `{"x": 5, "y": 3}`, func(in *Input) error {
			var x, y int
			if err := Int(in, "x", &x); err != nil {
				return err
			}
			return Int(in, "y", &y)
		}},
		{"nested", []string{"text", "options", "tags"},
			`{"text": "` + strings.Repeat("a quick brown fox, ", 12) + `", "options": {"mode": "upper", "limits": [1, 2, 3], "deep": {"on": true, "ratio": 0.5}}, "tags": ["a", "b\u00e9", "c\"d"]}`,
			func(in *Input) error {
				var text string
				var opts map[string]any
				var tags []string
				if err := String(in, "text", &text); err != nil {
					return err
				}
				if err := JSON(in, "options", &opts); err != nil {
					return err
				}
				return Strings(in, "tags", &tags)
			}},
		{"1000 floats", []string{"numbers", "scale"}, numbers.String(), func(in *Input) error {
			var xs []float64
			var scale float64
			if err := Floats(in, "numbers", &xs); err != nil {
				return err
			}
			return Float(in, "scale", &scale)
		}},
	} {
		fn := &Function{Name: "example.com/app/api.F"}
		for _, p := range bc.params {
			fn.Params = append(fn.Params, Param{Name: p, In: "body"})
		}
		body := []byte(bc.body)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				in, err := routeInput(fn, nil, nil, body, true)
				if err == nil {
					err = bc.bind(in)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/split", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := routeInput(fn, nil, nil, body, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
