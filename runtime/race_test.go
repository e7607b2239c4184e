//go:build race

package runtime

// raceSlack is the extra time the race detector's instrumentation may
// add to a process's shutdown.
const raceSlack = 2e9
