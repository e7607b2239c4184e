// Package b has another Status on Q.
package b

import _ "example.com/ambiguousfunction/res"

//flash:remote res.Q
func Status() error { return nil } // want `function name Status is ambiguous on resource "q" \(also example.com/ambiguousfunction/a.Status\)`

//flash:remote res.Q
func Other() error { return nil }

// Report is on Q here, on Other in package a: not ambiguous.
//
//flash:remote res.Q
func Report() error { return nil }
