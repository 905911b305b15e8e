//go:build race

package web_test

// raceEnabled: the race detector changes stack sizes and frames.
const raceEnabled = true
