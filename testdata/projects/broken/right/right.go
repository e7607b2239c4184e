// Package right: see package left.
package right

import _ "example.com/broken/res"

//flash:remote res.API method=GET path=/items/{key}
func FetchItem(key string) string { return key }

//flash:remote res.Queue
func Status() string { return "right" }
