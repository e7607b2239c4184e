// Package a has a Status function on Q.
package a

import _ "example.com/ambiguousfunction/res"

//flash:remote res.Q
func Status() error { return nil } // want `function name Status is ambiguous on resource "q" \(also example.com/ambiguousfunction/b.Status\): callers must use the qualified name example.com/ambiguousfunction/a.Status`

// One name on two resources is fine.
//
//flash:remote res.Other
func Report() error { return nil }
