//go:build !race

package runtime

const raceSlack = 0
