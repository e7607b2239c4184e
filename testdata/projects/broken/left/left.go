// Package left and package right do not import each other, yet claim the
// same route and the same bare function name on one resource.
package left

import _ "example.com/broken/res"

//flash:remote res.API method=GET path=/items/{id}
func GetItem(id string) string { return id }

//flash:remote res.Queue
func Status() string { return "left" }
