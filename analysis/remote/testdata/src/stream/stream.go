// Package stream holds remote functions that stream their results (SPEC
// section 18): iter.Seq2[T, error] and iter.Seq[T] are accepted, nothing else
// new is.
package stream

import (
	"context"
	"iter"

	"github.com/flash-lsp/flash-lsp/runtime"
)

var API = runtime.LoadBalancer{Name: "api"} // want API:`resource LoadBalancer "api"`

var Q = runtime.Serverless{Name: "q"} // want Q:`resource Serverless "q"`

// Token is one streamed value.
type Token struct {
	Text string `json:"text"`
}

// Tokens is an alias: the stream is still an iter.Seq2.
type Tokens = iter.Seq2[Token, error]

//flash:remote API method=POST path=/generate
func Generate(ctx context.Context, prompt string) iter.Seq2[Token, error] { return nil }

//flash:remote API method=GET path=/count
func Count(n int) iter.Seq[int] { return nil }

//flash:remote Q
func Frames(ctx context.Context, n int) Tokens { return nil }

//flash:remote Q
func WithError() (iter.Seq2[Token, error], error) { return nil, nil } // want `WithError returns iter.Seq2\[stream.Token, error\] and an error: a streaming function returns its stream alone`

//flash:remote Q
func SeqAndError() (iter.Seq[int], error) { return nil, nil } // want `SeqAndError returns iter.Seq\[int\] and an error`

//flash:remote Q
func NotError() iter.Seq2[Token, string] { return nil } // want `NotError returns iter.Seq2\[stream.Token, string\]: the second type of an iter.Seq2 result must be error, not string`

//flash:remote Q
func ChanItems() iter.Seq[chan int] { return nil } // want `result of ChanItems is not JSON-serialisable: chan int is a channel`

//flash:remote Q
func ErrorItems() iter.Seq[error] { return nil } // want `error cannot be the result value of ErrorItems`

//flash:remote Q
func PlainFunc() func(yield func(int) bool) { return nil } // want `result of PlainFunc is not JSON-serialisable`

// Defined is a type of its own, not iter.Seq: nothing new accepts it.
type Defined iter.Seq[int]

//flash:remote Q
func DefinedSeq() Defined { return nil } // want `result of DefinedSeq is not JSON-serialisable`
