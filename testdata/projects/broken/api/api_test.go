package api

import "testing"

//flash:remote res.API method=GET path=/in-test
func InTest() {}

func TestNothing(t *testing.T) { InTest() }
