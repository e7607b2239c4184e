// Command tool is a main package: its functions cannot be remote.
package main

import _ "example.com/broken/res"

//flash:remote res.API method=GET path=/tool
func Tool() {}

func main() { Tool() }
