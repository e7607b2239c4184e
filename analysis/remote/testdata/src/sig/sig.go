// Package sig holds remote functions whose signatures cannot be bound.
package sig

import (
	"context"
	"io"
	"unsafe"

	"github.com/flash-lsp/flash-lsp/runtime"
)

var Q = runtime.Serverless{Name: "q"} // want Q:`resource Serverless "q"`

//flash:remote Q
func Variadic(xs ...int) {} // want `Variadic must not be variadic`

//flash:remote Q
func Unnamed(int, string) {} // want `parameter 1 of Unnamed must be named` `parameter 2 of Unnamed must be named`

//flash:remote Q
func Blank(_ int) {} // want `parameter 1 of Blank must be named`

//flash:remote Q
func CtxLate(x int, ctx context.Context) {} // want `context.Context must be the first parameter of CtxLate`

//flash:remote Q
func Chan(c chan int) {} // want `parameter c of Chan is not JSON-serialisable: chan int is a channel`

//flash:remote Q
func Func(f func()) {} // want `parameter f of Func is not JSON-serialisable: func\(\) is a function`

//flash:remote Q
func Complex(c complex128) {} // want `parameter c of Complex is not JSON-serialisable: complex128 has no JSON encoding`

//flash:remote Q
func Unsafe(p unsafe.Pointer) {} // want `parameter p of Unsafe is not JSON-serialisable: unsafe.Pointer has no JSON encoding`

//flash:remote Q
func Iface(r io.Reader) {} // want `parameter r of Iface is not JSON-serialisable: io.Reader is a non-empty interface`

// Point is a struct: not a JSON object key.
type Point struct{ X, Y int }

//flash:remote Q
func MapKey(m map[Point]int) {} // want `parameter m of MapKey is not JSON-serialisable: map key type sig.Point is not a string or integer`

// Node holds an unserialisable field deep down.
type Node struct {
	Name string
	Next *Node
	Kids []Leaf
}

// Leaf is reached through Node.
type Leaf struct {
	Done func()
}

//flash:remote Q
func Nested(n Node) {} // want `parameter n of Nested is not JSON-serialisable: field Kids of sig.Node: field Done of sig.Leaf: func\(\) is a function`

// Tree is recursive, which JSON allows.
type Tree struct {
	Kids  []*Tree
	Index map[string]Tree
}

//flash:remote Q
func Cyclic(t Tree) (Tree, error) { return t, nil }

type hidden struct{ X int }

//flash:remote Q
func Hidden(h hidden) {} // want `parameter h of Hidden has type sig.hidden, which other packages cannot name: sig.hidden is unexported`

//flash:remote Q
func HiddenSlice(h []hidden) {} // want `parameter h of HiddenSlice has type \[\]sig.hidden, which other packages cannot name`

//flash:remote Q
func HiddenResult() (*hidden, error) { return nil, nil } // want `result of HiddenResult has type \*sig.hidden, which other packages cannot name`

//flash:remote Q
func AnonStruct(s struct{ x int }) {} // want `parameter s of AnonStruct has type struct{x int}, which other packages cannot name: its unexported field x`

//flash:remote Q
func ThreeResults() (int, int, error) { return 0, 0, nil } // want `ThreeResults returns 3 results: want none, \(T\), \(error\) or \(T, error\)`

//flash:remote Q
func SecondNotError() (int, string) { return 0, "" } // want `the second result of SecondNotError must be error, not string`

//flash:remote Q
func BadResult() chan int { return nil } // want `result of BadResult is not JSON-serialisable: chan int is a channel`

//flash:remote Q
func CtxResult() context.Context { return nil } // want `context.Context cannot be the result value of CtxResult`

// Custom has its own JSON encoding, so its fields do not matter.
type Custom struct{ c chan int }

func (Custom) MarshalJSON() ([]byte, error) { return nil, nil }
func (*Custom) UnmarshalJSON([]byte) error  { return nil }

//flash:remote Q
func Marshal(c Custom, cs []Custom) (Custom, error) { return c, nil }

// Tagged skips its unserialisable field.
type Tagged struct {
	C chan int `json:"-"`
	N int      `json:"n"`
}

//flash:remote Q
func JSONDash(t Tagged) {}

type inner struct{ C chan int }

// Outer embeds an unexported struct, whose exported fields JSON promotes.
type Outer struct {
	inner
	Name string
}

//flash:remote Q
func Embedded(o Outer) {} // want `parameter o of Embedded is not JSON-serialisable: field inner of sig.Outer: field C of sig.inner: chan int is a channel`

//flash:remote Q
func Anything(v any, e error, m map[int64][]byte, a [4]uint) (any, error) { return v, e }

//flash:remote Q
func unexported() {} // want `remote function unexported is not exported: generated handlers call it from another package`

//flash:remote Q
func Generic[T any](x T) {} // want `remote function Generic must not be generic`

//flash:remote Q
func NoCtxResultOnly() error { return nil }

// Ünïcode comes before the flagged parameter.
//
//flash:remote Q
func Ünïcode(ßtraße int, ch chan int) {} // want `parameter ch of Ünïcode is not JSON-serialisable`

// List is a generic recursive type.
type List[T any] struct {
	Value T
	Next  *List[T]
}

//flash:remote Q
func Lists(l List[int], m map[string]List[*List[int]]) (List[List[string]], error) {
	return List[List[string]]{}, nil
}

//flash:remote Q
func BadList(l List[chan int]) {} // want `parameter l of BadList is not JSON-serialisable: field Value of sig.List\[chan int\]: chan int is a channel`
