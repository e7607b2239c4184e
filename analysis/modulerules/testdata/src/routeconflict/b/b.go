// Package b holds the other side, in another package of the module.
package b

import _ "example.com/routeconflict/res"

// Variable names do not matter: /items/{key} is /items/{id}.
//
// want +2 `route GET /items/\{key\} of Fetch conflicts with example.com/routeconflict/a.Get`
//
//flash:remote res.API method=GET path=/items/{key}
func Fetch(key string) error { return nil }

// want +2 `route PUT /same of PutToo conflicts with example.com/routeconflict/a.Put, example.com/routeconflict/a.PutAgain`
//
//flash:remote res.API method=PUT path=/same
func PutToo() error { return nil }
