// Package gpu holds the functions of the GPU load balancer: a health check,
// a numeric computation and a description of the worker.
package gpu

import (
	"context"
	"errors"
	"math"
	"runtime"

	"example.com/quickstart/res"
)

// Health reports the worker's state.
type Health struct {
	Status string `json:"status"`
	Worker string `json:"worker"`
}

// HealthCheck answers GET /health.
//
//flash:remote res.GPU method=GET path=/health
func HealthCheck() Health {
	return Health{Status: "healthy", Worker: "gpu"}
}

// Stats summarises a list of numbers.
type Stats struct {
	Count  int     `json:"count"`
	Sum    float64 `json:"sum"`
	Mean   float64 `json:"mean"`
	StdDev float64 `json:"std_dev"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Compute returns summary statistics of numbers.
//
//flash:remote res.GPU method=POST path=/compute
func Compute(ctx context.Context, numbers []float64) (Stats, error) {
	if len(numbers) == 0 {
		return Stats{}, errors.New("numbers is empty")
	}
	s := Stats{Count: len(numbers), Min: math.Inf(1), Max: math.Inf(-1)}
	for _, n := range numbers {
		s.Sum += n
		s.Min = math.Min(s.Min, n)
		s.Max = math.Max(s.Max, n)
	}
	s.Mean = s.Sum / float64(s.Count)
	var sq float64
	for _, n := range numbers {
		sq += (n - s.Mean) * (n - s.Mean)
	}
	s.StdDev = math.Sqrt(sq / float64(s.Count))
	return s, ctx.Err()
}

// Info describes the worker.
type Info struct {
	Resource   string   `json:"resource"`
	GPUs       []string `json:"gpus"`
	WorkersMin int      `json:"workers_min"`
	GoVersion  string   `json:"go_version"`
	CPUs       int      `json:"cpus"`
}

// WorkerInfo answers GET /info.
//
//flash:remote res.GPU method=GET path=/info
func WorkerInfo() Info {
	return Info{
		Resource:   res.GPU.Name,
		GPUs:       res.GPU.GPUs,
		WorkersMin: res.GPU.WorkersMin,
		GoVersion:  runtime.Version(),
		CPUs:       runtime.NumCPU(),
	}
}
