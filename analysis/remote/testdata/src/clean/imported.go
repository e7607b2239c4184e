package clean

import (
	_ "res"

	other "res"
)

var _ = other.Count

// Train runs on a resource of a blank-imported package.
//
//flash:remote res.GPU
func Train(steps int) (float64, error) { return 0, nil }

// Page is served by a resource of a renamed import.
//
//flash:remote other.Web method=GET path=/web/{page}
func Page(page int) (string, error) { return "", nil }
