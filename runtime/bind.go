package runtime

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// String binds a string parameter.
func String[T ~string](in *Input, name string, dst *T) error {
	f, err := in.need(name)
	if err != nil {
		return err
	}
	s, err := scalarString(f)
	if err != nil {
		return err
	}
	*dst = T(s)
	return nil
}

// Bool binds a boolean parameter; text is parsed with strconv.ParseBool.
func Bool[T ~bool](in *Input, name string, dst *T) error {
	f, err := in.need(name)
	if err != nil {
		return err
	}
	s, err := scalarText(f)
	if err != nil {
		return err
	}
	v, err := parseBool(f.isJSON, s)
	if err != nil {
		return &BindError{Param: name, Msg: err.Error()}
	}
	*dst = T(v)
	return nil
}

// Int binds a signed integer parameter.
func Int[T ~int | ~int8 | ~int16 | ~int32 | ~int64](in *Input, name string, dst *T) error {
	f, err := in.need(name)
	if err != nil {
		return err
	}
	s, err := scalarText(f)
	if err != nil {
		return err
	}
	v, err := parseInt[T](f.isJSON, s)
	if err != nil {
		return &BindError{Param: name, Msg: err.Error()}
	}
	*dst = v
	return nil
}

// Uint binds an unsigned integer parameter.
func Uint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](in *Input, name string, dst *T) error {
	f, err := in.need(name)
	if err != nil {
		return err
	}
	s, err := scalarText(f)
	if err != nil {
		return err
	}
	v, err := parseUint[T](f.isJSON, s)
	if err != nil {
		return &BindError{Param: name, Msg: err.Error()}
	}
	*dst = v
	return nil
}

// Float binds a floating-point parameter; it must be finite.
func Float[T ~float32 | ~float64](in *Input, name string, dst *T) error {
	f, err := in.need(name)
	if err != nil {
		return err
	}
	s, err := scalarText(f)
	if err != nil {
		return err
	}
	v, err := parseFloat[T](f.isJSON, s)
	if err != nil {
		return &BindError{Param: name, Msg: err.Error()}
	}
	*dst = v
	return nil
}

// Text binds a parameter whose type implements encoding.TextUnmarshaler:
// text is passed to UnmarshalText; a JSON value goes to UnmarshalJSON when
// dst is a json.Unmarshaler, and must otherwise be a JSON string whose
// contents go to UnmarshalText.
func Text(in *Input, name string, dst encoding.TextUnmarshaler) error {
	f, err := in.need(name)
	if err != nil {
		return err
	}
	if f.isJSON {
		if ju, ok := dst.(json.Unmarshaler); ok {
			if err := ju.UnmarshalJSON([]byte(f.raw)); err != nil {
				return &BindError{Param: name, Msg: err.Error()}
			}
			return nil
		}
	}
	s, err := scalarString(f)
	if err != nil {
		return err
	}
	if err := dst.UnmarshalText([]byte(s)); err != nil {
		return &BindError{Param: name, Msg: err.Error()}
	}
	return nil
}

// JSON binds a parameter of any type from a JSON value (body and arg
// parameters). Unknown object fields are an error, as they are at the top
// level of a body. Text (a path or query value) is read as JSON when it
// is valid JSON and as a JSON string otherwise.
func JSON(in *Input, name string, dst any) error {
	f, err := in.need(name)
	if err != nil {
		return err
	}
	raw := []byte(f.raw)
	if !f.isJSON {
		if len(f.text) > 1 {
			return &BindError{Param: name, Msg: "given more than once"}
		}
		if tu, ok := dst.(encoding.TextUnmarshaler); ok {
			if err := tu.UnmarshalText([]byte(f.text[0])); err != nil {
				return &BindError{Param: name, Msg: err.Error()}
			}
			return nil
		}
		raw = []byte(f.text[0])
		if !json.Valid(raw) {
			raw, _ = json.Marshal(f.text[0])
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return &BindError{Param: name, Msg: strings.TrimPrefix(err.Error(), "json: ")}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &BindError{Param: name, Msg: "invalid JSON: data after the value"}
	}
	return nil
}

// Strings binds a slice of strings: repeated query keys
// (?names=a&names=b) or a JSON array.
func Strings[S ~[]E, E ~string](in *Input, name string, dst *S) error {
	return bindSlice(in, name, dst, func(isJSON bool, s string) (E, error) {
		if isJSON {
			v, err := jsonString(s)
			return E(v), err
		}
		return E(s), nil
	})
}

// Bools binds a slice of booleans.
func Bools[S ~[]E, E ~bool](in *Input, name string, dst *S) error {
	return bindSlice(in, name, dst, func(isJSON bool, s string) (E, error) {
		v, err := parseBool(isJSON, s)
		return E(v), err
	})
}

// Ints binds a slice of signed integers.
func Ints[S ~[]E, E ~int | ~int8 | ~int16 | ~int32 | ~int64](in *Input, name string, dst *S) error {
	return bindSlice(in, name, dst, parseInt[E])
}

// Uints binds a slice of unsigned integers.
func Uints[S ~[]E, E ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](in *Input, name string, dst *S) error {
	return bindSlice(in, name, dst, parseUint[E])
}

// Floats binds a slice of floating-point numbers.
func Floats[S ~[]E, E ~float32 | ~float64](in *Input, name string, dst *S) error {
	return bindSlice(in, name, dst, parseFloat[E])
}

// Texts binds a slice of a type whose pointer implements
// encoding.TextUnmarshaler, following the rules of [Text] per element.
func Texts[S ~[]E, E any, P interface {
	*E
	encoding.TextUnmarshaler
}](in *Input, name string, dst *S) error {
	return bindSlice(in, name, dst, func(isJSON bool, s string) (E, error) {
		var e E
		if isJSON {
			if ju, ok := any(P(&e)).(json.Unmarshaler); ok {
				err := ju.UnmarshalJSON([]byte(s))
				return e, err
			}
			v, err := jsonString(s)
			if err != nil {
				return e, err
			}
			s = v
		}
		err := P(&e).UnmarshalText([]byte(s))
		return e, err
	})
}

// bindSlice binds every text value, or every element of a JSON array,
// with parse (which receives raw JSON text when isJSON).
func bindSlice[S ~[]E, E any](in *Input, name string, dst *S, parse func(isJSON bool, s string) (E, error)) error {
	f, err := in.need(name)
	if err != nil {
		return err
	}
	if !f.isJSON {
		out := make(S, 0, len(f.text))
		for i, s := range f.text {
			v, err := parse(false, s)
			if err != nil {
				return &BindError{Param: name, Msg: fmt.Sprintf("value %d: %v", i+1, err)}
			}
			out = append(out, v)
		}
		*dst = out
		return nil
	}
	// The elements are read in place, with the body's own scanner: no
	// copy of each, as a []json.RawMessage would make.
	raw := strings.Trim(f.raw, " \t\n\r")
	if len(raw) == 0 || raw[0] != '[' {
		return &BindError{Param: name, Msg: "want an array, got " + jsonKind(raw)}
	}
	var out S
	i := skipSpace(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		i++
	} else {
		out = make(S, 0, 8)
		for n := 0; ; n++ {
			end, ok := scanValue(raw, i, 1)
			if !ok {
				return &BindError{Param: name, Msg: "want an array, got " + jsonKind(raw)}
			}
			v, err := parse(true, raw[i:end])
			if err != nil {
				return &BindError{Param: name, Msg: fmt.Sprintf("element %d: %v", n, err)}
			}
			out = append(out, v)
			if i = skipSpace(raw, end); i < len(raw) && raw[i] == ',' {
				i = skipSpace(raw, i+1)
				continue
			}
			if i >= len(raw) || raw[i] != ']' {
				return &BindError{Param: name, Msg: "want an array, got " + jsonKind(raw)}
			}
			i++
			break
		}
	}
	if skipSpace(raw, i) != len(raw) {
		return &BindError{Param: name, Msg: "want an array, got " + jsonKind(raw)}
	}
	if out == nil {
		out = S{}
	}
	*dst = out
	return nil
}

// scalarText returns the one text value of f, or f's raw JSON text.
func scalarText(f *field) (string, error) {
	if f.isJSON {
		return f.raw, nil
	}
	if len(f.text) > 1 {
		return "", &BindError{Param: f.name, Msg: fmt.Sprintf("given %d times, want one value", len(f.text))}
	}
	return f.text[0], nil
}

// scalarString returns the string value of f: its text, or the contents
// of a JSON string.
func scalarString(f *field) (string, error) {
	s, err := scalarText(f)
	if err != nil || !f.isJSON {
		return s, err
	}
	v, err := jsonString(s)
	if err != nil {
		return "", &BindError{Param: f.name, Msg: err.Error()}
	}
	return v, nil
}

// jsonString decodes a JSON string literal.
func jsonString(raw string) (string, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", fmt.Errorf("want a string, got %s", jsonKind(raw))
	}
	body := raw[1 : len(raw)-1]
	if raw[len(raw)-1] == '"' && strings.IndexByte(body, '\\') < 0 && strings.IndexByte(body, '"') < 0 && utf8.ValidString(body) && !hasControl(body) {
		return body, nil
	}
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return "", fmt.Errorf("want a string: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return s, nil
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 {
			return true
		}
	}
	return false
}

func parseBool(isJSON bool, s string) (bool, error) {
	if isJSON {
		switch s {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, fmt.Errorf("want a boolean, got %s", jsonKind(s))
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("want a boolean, got %q", s)
	}
	return v, nil
}

// jsonNumber reports whether s is a JSON number, and whether it is an
// integer literal (no fraction or exponent).
func jsonNumber(s string) (ok, integer bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false, false
	}
	integer = true
	if i < len(s) && s[i] == '.' {
		integer = false
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		integer = false
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false, false
		}
	}
	return i == len(s), integer
}

// numberText checks that a JSON value is a number (an integer literal when
// integer is set) and returns its text.
func numberText(isJSON bool, s string, integer bool) (string, error) {
	if !isJSON {
		return s, nil
	}
	ok, isInt := jsonNumber(s)
	switch {
	case !ok:
		return "", fmt.Errorf("want a number, got %s", jsonKind(s))
	case integer && !isInt:
		return "", fmt.Errorf("want an integer, got %s", s)
	}
	return s, nil
}

// numberError explains why strconv rejected s for a value of zero's type:
// out of range, or not want ("an integer").
func numberError(err error, s string, zero any, want string) error {
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange || err == strconv.ErrRange {
		return fmt.Errorf("%s overflows %T", s, zero)
	}
	return fmt.Errorf("want %s, got %q", want, s)
}

func parseInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](isJSON bool, s string) (T, error) {
	s, err := numberText(isJSON, s, true)
	if err != nil {
		return 0, err
	}
	x, err := strconv.ParseInt(s, 10, 64)
	if err == nil && int64(T(x)) != x {
		err = strconv.ErrRange
	}
	if err != nil {
		return 0, numberError(err, s, T(0), "an integer")
	}
	return T(x), nil
}

func parseUint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](isJSON bool, s string) (T, error) {
	s, err := numberText(isJSON, s, true)
	if err != nil {
		return 0, err
	}
	x, err := strconv.ParseUint(s, 10, 64)
	if err == nil && uint64(T(x)) != x {
		err = strconv.ErrRange
	}
	if err != nil {
		return 0, numberError(err, s, T(0), "a non-negative integer")
	}
	return T(x), nil
}

func parseFloat[T ~float32 | ~float64](isJSON bool, s string) (T, error) {
	s, err := numberText(isJSON, s, false)
	if err != nil {
		return 0, err
	}
	bits := 64
	if big := 1e300; float64(T(big)) != big {
		bits = 32
	}
	x, err := strconv.ParseFloat(s, bits)
	if err != nil {
		return 0, numberError(err, s, T(0), "a number")
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("want a finite number, got %q", s)
	}
	return T(x), nil
}
