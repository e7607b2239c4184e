package directives

// want +2 `misplaced //flash:remote in a _test.go file: generated handlers cannot import test code`
//
//flash:remote API method=POST path=/t
func Helper() {}
