// Package report calls other resources through their generated typed
// clients: a function of the CPU load balancer that reads the catalogue of
// test-api and counts words on the jobs queue. Under `flash-lsp run --all`
// both calls stay in the process; deployed, they go to the endpoints the
// environment or the mothership names.
package report

import (
	"context"
	"errors"
	"net/http"

	jobsclient "example.com/quickstart/flashclient/jobs"
	catalogue "example.com/quickstart/flashclient/test-api"
	"example.com/quickstart/items"
	"example.com/quickstart/jobs"
	_ "example.com/quickstart/res"
	"github.com/flash-lsp/flash-lsp/runtime"
)

// Summary describes a catalogue item.
type Summary struct {
	Item  items.Item  `json:"item"`
	Words jobs.Counts `json:"words"`
}

// StatusError keeps the HTTP status of a failed call to another resource,
// so that a missing item is a 404 here too, with the server's message.
type StatusError struct {
	Status int
	Err    error
}

func (e *StatusError) Error() string   { return e.Err.Error() }
func (e *StatusError) Unwrap() error   { return e.Err }
func (e *StatusError) StatusCode() int { return e.Status }

// Summarize fetches item id from test-api and counts the words of its
// description with the jobs queue.
//
//flash:remote res.CPU method=GET path=/summary/{id}
func Summarize(ctx context.Context, id string) (Summary, error) {
	verbose := true
	var api catalogue.Client
	item, err := api.GetItem(ctx, id, &verbose)
	if err != nil {
		var he *runtime.HTTPError
		if errors.As(err, &he) && he.StatusCode < http.StatusInternalServerError {
			return Summary{}, &StatusError{Status: he.StatusCode, Err: errors.New(he.Message)}
		}
		return Summary{}, err
	}
	var queue jobsclient.Client
	words, err := queue.WordCount(ctx, item.Description, nil)
	if err != nil {
		return Summary{}, err
	}
	return Summary{Item: item, Words: words}, nil
}
