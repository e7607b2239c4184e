// Package routes holds route mistakes on load-balanced and queue resources.
package routes

import (
	"context"

	"github.com/flash-lsp/flash-lsp/runtime"
)

var API = runtime.LoadBalancer{Name: "api"} // want API:`resource LoadBalancer "api"`

var Q = runtime.Serverless{Name: "q"} // want Q:`resource Serverless "q"`

// Filter is not a query value.
type Filter struct{ Term string }

// want +2 `CreateOrder on load-balanced resource API needs method= and path=`
//
//flash:remote API
func CreateOrder(ctx context.Context, id string) error { return nil }

// want +2 `GetHTTPStatus on load-balanced resource API needs method= and path=`
//
//flash:remote API
func GetHTTPStatus(ctx context.Context) (int, error) { return 0, nil }

// want +2 `UpdateUser on load-balanced resource API needs path=`
//
//flash:remote API method=PUT
func UpdateUser(name string) error { return nil }

// want +2 `ListUsers on load-balanced resource API needs method=`
//
//flash:remote API	path=/users
func ListUsers() ([]string, error) { return nil, nil }

// Ping's kebab path is reserved: no fix.
//
// want +2 `Ping on load-balanced resource API needs method= and path=`
//
//flash:remote API
func Ping() {}

// Taken and Taken2 share a route: that is route-conflict, a whole-module
// rule that this analyzer does not report.
//
//flash:remote API method=GET path=/taken
func Taken() {}

//flash:remote API method=GET path=/taken
func Taken2() {}

// TakenToo would conflict with Taken once fixed: no fix.
//
// want +2 `TakenToo on load-balanced resource API needs method=`
//
//flash:remote API path=/taken
func TakenToo() {}

// want +2 `method=POST on Enqueue is ignored: Q is a queue resource \(Serverless\)` `path=/q on Enqueue is ignored`
//
//flash:remote Q method=POST path=/q
func Enqueue(x int) error { return nil }

// want +2 `bad method "get" for Lower: want one of GET, POST, PUT, DELETE, PATCH \(upper case\)`
//
//flash:remote API method=get path=/lower
func Lower() {}

// want +2 `bad method "FETCH" for Fetch`
//
//flash:remote API method=FETCH path=/fetch
func Fetch() {}

// want +2 `bad path "items" for NoSlash: must start with /`
//
//flash:remote API method=GET path=items
func NoSlash() {}

// want +2 `bad path "/trailing/" for Trailing: must not end with /`
//
//flash:remote API method=GET path=/trailing/
func Trailing() {}

// want +2 `bad path "/a\?b" for Query: must not contain '\?'`
//
//flash:remote API method=GET path=/a?b
func Query() {}

// want +2 `bad path "/a#b" for Fragment: must not contain '#'`
//
//flash:remote API method=GET path=/a#b
func Fragment() {}

// want +2 `bad path "/a//b" for DoubleSlash: must not contain //`
//
//flash:remote API method=GET path=/a//b
func DoubleSlash() {}

// want +2 `bad path "/a/./b" for Dot: segment "\." can never match`
//
//flash:remote API method=GET path=/a/./b
func Dot() {}

// want +2 `bad path "/a/\.\." for DotDot: segment "\.\." can never match`
//
//flash:remote API method=GET path=/a/..
func DotDot() {}

// want +2 `bad path "/a/%zz" for Percent: stray %`
//
//flash:remote API method=GET path=/a/%zz
func Percent() {}

// Escapes are fine, and so are dots and question marks in a pattern.
//
//flash:remote API method=GET path=/a%20b/{v:[a-z]+\.txt?}/{w:.+}
func Escaped(v, w string) {}

// want +2 `bad path "/a/{v:\(x\|y\)}" for Capture: rejected by the router: route /a/{v:\(x\|y\)} contains capture groups`
//
//flash:remote API method=GET path=/a/{v:(x|y)}
func Capture(v string) {}

// want +2 `bad path "/a/{v" for Unbalanced: unbalanced braces`
//
//flash:remote API method=GET path=/a/{v
func Unbalanced(v string) {}

// want +2 `bad path "/a/{v:\[}" for BadRegexp: rejected by the router: error parsing regexp`
//
//flash:remote API method=GET path=/a/{v:[}
func BadRegexp(v string) {}

// want +2 `bad path "/a/{:x}" for NoName: variable "{:x}" has no name`
//
//flash:remote API method=GET path=/a/{:x}
func NoName() {}

// want +2 `path /execute of Execute is reserved: every load-balanced handler serves /execute itself`
//
//flash:remote API method=POST path=/execute
func Execute(x int) {}

// want +2 `path /ping of Health is reserved`
//
//flash:remote API method=GET path=/ping
func Health() {}

// want +2 `path /manifest of Manifesto is reserved`
//
//flash:remote API method=GET path=/manifest
func Manifesto() {}

// want +2 `path /openapi.json of DescribeAPI is reserved: every load-balanced handler serves /openapi.json itself`
//
//flash:remote API method=GET path=/openapi.json
func DescribeAPI() {}

// want +2 `path variable {name} of GET /users/{id}/{name} has no parameter of that name in GetUser`
//
//flash:remote API method=GET path=/users/{id}/{name}
func GetUser(id int) {}

// want +2 `path variable {id} appears twice in /dup/{id}/{id}`
//
//flash:remote API method=GET path=/dup/{id}/{id}
func Dup(id int) {}

// want +2 `path variable {filter} of GET /bad/{filter} binds parameter filter of type routes.Filter: want string, bool, integer, float or encoding.TextUnmarshaler`
//
//flash:remote API method=GET path=/bad/{filter}
func BadVar(filter Filter) {}

// want +2 `path variable {p} of POST /ptr/{p} binds parameter p of type \*int`
//
//flash:remote API method=POST path=/ptr/{p}
func PtrVar(p *int) {}

//flash:remote API method=GET path=/search
func Search(q string, filter Filter) {} // want `parameter filter of Search \(GET /search\) has type routes.Filter: GET parameters come from the query string`

//flash:remote API method=DELETE path=/purge
func Purge(ids [][]string, m map[string]int) {} // want `parameter ids of Purge` `parameter m of Purge`

// Body parameters may be anything JSON carries.
//
//flash:remote API method=PATCH path=/patch/{id}
func Patch(id int64, filter Filter, m map[string]int, tags []string) {}

// want +2 `path variable {nope} of GET /caf%C3%A9/{nope} has no parameter of that name in Café`
//
//flash:remote API method=GET path=/caf%C3%A9/{nope}
func Café(ünïcode string) {}

// want +2 `bad path "/ñandú" for Ñandú: 'ñ' can never match: requests carry it percent-encoded as %C3%B1`
//
//flash:remote API method=GET path=/ñandú
func Ñandú() {}

// An unknown resource hides every route rule.
//
// want +2 `unknown resource Nope for Hidden: did you mean API\?`
//
//flash:remote Nope method=get path=items/
func Hidden() {}

// Übersicht's kebab path /übersicht would itself be a bad path: no fix.
//
// want +2 `Übersicht on load-balanced resource API needs method= and path=`
//
//flash:remote API
func Übersicht() {}

// want +2 `path /ping of Größe is reserved`
//
//flash:remote API method=GET path=/ping
func Größe() {}
