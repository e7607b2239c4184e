// Command streambench measures streaming throughput (SPEC 18, `make bench`
// through scripts/bench-stream.sh): values per second streamed as NDJSON by
// the generated handler of testdata/projects/streaming beside a
// hand-written net/http handler doing the same work, each a process of its
// own, read by this program as an external client.
//
//	streambench port                  print a free loopback port
//	streambench wait URL...           wait until each URL/ping answers 200
//	streambench anchor -addr 127.0.0.1:PORT
//	streambench measure -flash URL -anchor URL [-values 100000] [-rounds 7] [-requests 3]
//
// anchor serves POST /generate {"prompt": P, "n": N} the way a Go developer
// would write it by hand: N tokens {"i": i, "text": "P-i"}, one JSON value
// per line, encoded with encoding/json and flushed after each value,
// stopping when the client goes away. measure streams that route from both
// servers in interleaved rounds (the order alternating) and prints each
// round's values/s, the medians and the median ratio flash/anchor.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "port":
		err = freePort()
	case "wait":
		err = waitPing(os.Args[2:])
	case "anchor":
		err = anchor(os.Args[2:])
	case "measure":
		err = measure(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "streambench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: streambench port | wait URL... | anchor -addr HOST:PORT | measure -flash URL -anchor URL [-values N] [-rounds R] [-requests K]")
	os.Exit(2)
}

func freePort() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	return nil
}

func waitPing(bases []string) error {
	deadline := time.Now().Add(60 * time.Second)
	for _, base := range bases {
		for {
			resp, err := http.Get(base + "/ping")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s/ping did not answer 200 within 60s", base)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// token is what both servers stream.
type token struct {
	I    int    `json:"i"`
	Text string `json:"text"`
}

func anchor(args []string) error {
	fs := flag.NewFlagSet("anchor", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listening address")
	fs.Parse(args)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /generate", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Prompt string `json:"prompt"`
			N      int    `json:"n"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, `{"error":"bad body"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		flusher := w.(http.Flusher)
		enc := json.NewEncoder(w)
		ctx := r.Context()
		for i := range in.N {
			if ctx.Err() != nil {
				return
			}
			if err := enc.Encode(token{I: i, Text: fmt.Sprintf("%s-%d", in.Prompt, i)}); err != nil {
				return
			}
			flusher.Flush()
		}
	})
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"status":"healthy"}`)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func measure(args []string) error {
	fs := flag.NewFlagSet("measure", flag.ExitOnError)
	flash := fs.String("flash", "", "base URL of the generated handler")
	anchorURL := fs.String("anchor", "", "base URL of the hand-written handler")
	values := fs.Int("values", 100000, "values per request")
	rounds := fs.Int("rounds", 7, "interleaved rounds")
	requests := fs.Int("requests", 3, "requests per server per round")
	fs.Parse(args)
	if *flash == "" || *anchorURL == "" || *rounds < 1 || *requests < 1 || *values < 1 {
		usage()
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 2}}
	body, _ := json.Marshal(map[string]any{"prompt": "p", "n": *values})
	stream := func(base string) (time.Duration, error) {
		start := time.Now()
		resp, err := client.Post(base+"/generate", "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
			return 0, fmt.Errorf("%s: %s %s", base, resp.Status, resp.Header.Get("Content-Type"))
		}
		sc := bufio.NewScanner(resp.Body)
		n := 0
		var last token
		for sc.Scan() {
			n++
			if n == *values {
				if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
					return 0, err
				}
			}
		}
		if err := sc.Err(); err != nil {
			return 0, err
		}
		if n != *values || last.I != *values-1 {
			return 0, fmt.Errorf("%s: %d values (last %+v), want %d", base, n, last, *values)
		}
		return time.Since(start), nil
	}
	// Warm both servers and the connections.
	for _, base := range []string{*flash, *anchorURL} {
		if _, err := stream(base); err != nil {
			return err
		}
	}
	var flashRates, anchorRates, ratios []float64
	fmt.Printf("%-6s %16s %16s %8s\n", "round", "flash values/s", "net/http values/s", "ratio")
	for round := range *rounds {
		order := []string{*flash, *anchorURL}
		if round%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		took := map[string]time.Duration{}
		for range *requests {
			for _, base := range order {
				d, err := stream(base)
				if err != nil {
					return err
				}
				took[base] += d
			}
		}
		total := float64(*values * *requests)
		fr := total / took[*flash].Seconds()
		ar := total / took[*anchorURL].Seconds()
		flashRates, anchorRates, ratios = append(flashRates, fr), append(anchorRates, ar), append(ratios, fr/ar)
		fmt.Printf("%-6d %16.0f %16.0f %8.3f\n", round+1, fr, ar, fr/ar)
	}
	fmt.Printf("median %16.0f %16.0f %8.3f   (flash/net/http: median of the %d rounds' ratios; target >= 0.9)\n",
		median(flashRates), median(anchorRates), median(ratios), *rounds)
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
