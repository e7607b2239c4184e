// Package api uses types from internal packages.
package api

import (
	"example.com/m/api/internal/types"
	"example.com/m/internal/shared"

	"github.com/flash-lsp/flash-lsp/runtime"
)

var Q = runtime.Serverless{Name: "q"} // want Q:`resource Serverless "q"`

//flash:remote Q
func Shared(item shared.Item) (shared.Item, error) { return item, nil }

//flash:remote Q
func Internal(job types.Job) error { return nil } // want `parameter job of Internal has type types.Job, which other packages cannot name: types.Job is in an internal package the module's handlers cannot import`

//flash:remote Q
func InternalResult() ([]types.Job, error) { return nil, nil } // want `result of InternalResult has type \[\]types.Job, which other packages cannot name`
