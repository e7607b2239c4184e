// Package compile does not compile; flash rules are still checked.
package compile

import _ "example.com/broken/res"

var n int = "not a number"

//flash:remote res.API method=Post path=/compile
func Broken() int { return n }
