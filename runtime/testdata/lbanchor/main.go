// Command lbanchor is the anchor of the load-balancer benchmark
// (scripts/bench-lb.sh): the quickstart's POST /compute written by hand
// on net/http and encoding/json, with nothing the runtime adds (no
// router, no request logs, no drain). The generated handler is measured
// as a share of its requests/s. It lives in testdata so that no build of
// ./... includes it.
package main

import (
	"encoding/json"
	"errors"
	"log"
	"math"
	"net/http"
	"os"
	"time"
)

type stats struct {
	Count  int     `json:"count"`
	Sum    float64 `json:"sum"`
	Mean   float64 `json:"mean"`
	StdDev float64 `json:"std_dev"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

func compute(numbers []float64) (stats, error) {
	if len(numbers) == 0 {
		return stats{}, errors.New("numbers is empty")
	}
	s := stats{Count: len(numbers), Min: math.Inf(1), Max: math.Inf(-1)}
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
	return s, nil
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /compute", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Numbers []float64 `json:"numbers"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 10<<20)).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s, err := compute(in.Numbers)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	})
	srv := &http.Server{Addr: "127.0.0.1:" + os.Getenv("PORT"), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
