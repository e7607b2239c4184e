// Package a holds one side of each conflict.
package a

import _ "example.com/routeconflict/res"

// want +2 `route GET /items/\{id\} of Get conflicts with example.com/routeconflict/b.Fetch on resource "api"`
//
//flash:remote res.API method=GET path=/items/{id}
func Get(id string) error { return nil }

// A numeric pattern is another route.
//
//flash:remote res.API method=GET path=/items/{id:[0-9]+}
func GetNumber(id int) error { return nil }

// Another method is another route.
//
//flash:remote res.API method=DELETE path=/items/{id}
func Delete(id string) error { return nil }

// Another resource has routes of its own.
//
//flash:remote res.Other method=GET path=/items/{id}
func OtherGet(id string) error { return nil }

// want +2 `route PUT /same of Put conflicts with example.com/routeconflict/a.PutAgain, example.com/routeconflict/b.PutToo`
//
//flash:remote res.API method=PUT path=/same
func Put() error { return nil }

// want +2 `route PUT /same of PutAgain conflicts with example.com/routeconflict/a.Put, example.com/routeconflict/b.PutToo`
//
//flash:remote res.API method=PUT path=/same
func PutAgain() error { return nil }
