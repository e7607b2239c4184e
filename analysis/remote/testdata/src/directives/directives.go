// Package directives holds malformed and misplaced directives.
package directives

// want +2 `misplaced //flash:remote on an import declaration`
//
//flash:remote API
import "github.com/flash-lsp/flash-lsp/runtime"

var API = runtime.LoadBalancer{Name: "api"} // want API:`resource LoadBalancer "api"`

// want +2 `unknown key "metod": did you mean "method"\?`
//
//flash:remote API metod=POST path=/a
func A() {}

// want +2 `malformed field "junk": want key=value`
//
//flash:remote API method=POST path=/b junk
func B() {}

// want +2 `empty value for path`
//
//flash:remote API method=POST path=
func C() {}

// want +2 `duplicate key method`
//
//flash:remote API method=POST method=GET path=/d
func D() {}

// want +2 `missing resource`
//
//flash:remote
func E() {}

// want +2 `missing resource: the first field`
//
//flash:remote method=POST path=/f
func F() {}

// want +2 `unknown directive //flash:remtoe: did you mean //flash:remote\?`
//
//flash:remtoe API method=POST path=/g
func G() {}

// want +2 `unknown directive //flash:remotes`
//
//flash:remotes API
func G2() {}

// want +3 `second //flash:remote on H: a function takes one directive`
//
//flash:remote API method=POST path=/h
//flash:remote API method=PUT path=/h2
func H() {}

// I has an ordinary comment that is not a directive.
// flash:remote API method=get
func I() {}

// J's directive sits at the top of its doc comment: any line counts.
//
// More documentation.
//
//flash:remote API method=POST path=/j
func J() {}

// T is a type.
type T struct{}

// want +2 `misplaced //flash:remote on method \(T\)\.M: only top-level functions can be remote`
//
//flash:remote API method=POST path=/m
func (T) M() {}

// want +2 `misplaced //flash:remote on method \(\*T\)\.P`
//
//flash:remote API method=POST path=/p
func (*T) P() {}

// want +2 `misplaced //flash:remote on a type declaration`
//
//flash:remote API
type U struct{}

// want +2 `misplaced //flash:remote on a var declaration`
//
//flash:remote API
var V = 1

const (
	// want +1 `misplaced //flash:remote on a const declaration`
	//flash:remote API
	W = 1
)

// Body hides a directive in its body.
func Body() {
	// want +1 `misplaced //flash:remote inside function Body`
	//flash:remote API
	_ = 1
}

type S struct {
	// want +1 `misplaced //flash:remote inside a type declaration`
	//flash:remote API
	F int
}

// want +1 `misplaced //flash:remote not attached to a function`
//flash:remote API method=POST path=/floating

// Floating is separated from the directive above by a blank line.
func Floating() {}
