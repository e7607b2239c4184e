// Package fakerunpod is a stand-in for RunPod's REST v2 management API, for
// tests only (the product never imports it). It serves on loopback, enforces
// the validation the API documents (unknown fields → 422, REQUEST_COUNT for
// load balancers, type immutable, env replaced on PATCH, 401 without the
// key), injects faults on demand (status codes with Retry-After, dropped
// connections), records every request, and runs the endpoints' images:
// each endpoint's requestUrls point at the fake, which proxies to a handler
// process started from the pushed image (pulled back, layers unpacked, the
// binary at its Entrypoint run with its config Env plus the endpoint's env),
// so a deploy's health wait talks to the real binary.
package fakerunpod

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one recorded request.
type Request struct {
	Method, Path string
	Body         []byte
}

// Fault makes matching requests fail. Status answers with that status (and
// Retry-After seconds when set); Drop closes the connection without an
// answer, after applying the request when AfterApply is set.
type Fault struct {
	Method     string // "" matches any
	Path       string // prefix of the path under /v2; "" matches any
	Status     int
	RetryAfter int
	Drop       bool
	AfterApply bool
	Times      int // how many requests it hits
}

// Server is a fake RunPod.
type Server struct {
	t      testing.TB
	APIKey string
	// Launcher runs endpoint images; nil: endpoints have no workers and
	// their health answers 204 forever.
	Launcher *Launcher

	srv *http.Server
	URL string // base URL of the API: http://127.0.0.1:N/v2

	mu         sync.Mutex
	endpoints  map[string]*endpoint
	registries map[string]map[string]any
	requests   []Request
	creates    int
	faults     []*Fault
}

type endpoint struct {
	data   map[string]any // the stored representation, as returned
	worker *Worker
}

// Start starts a fake RunPod on a loopback port; it stops with the test.
func Start(t testing.TB, apiKey string) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fake runpod: %v", err)
	}
	s := &Server{t: t, APIKey: apiKey, endpoints: map[string]*endpoint{}, registries: map[string]map[string]any{}}
	s.URL = "http://" + ln.Addr().String() + "/v2"
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	t.Cleanup(func() {
		s.srv.Close()
		s.mu.Lock()
		eps := slices.Collect(maps.Values(s.endpoints))
		s.mu.Unlock()
		for _, ep := range eps {
			ep.worker.Stop()
		}
	})
	return s
}

// AddFault installs a fault.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// Requests returns the requests recorded so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Mutations returns the recorded requests that could change something
// (anything but GET).
func (s *Server) Mutations() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// Creates counts the endpoints created so far.
func (s *Server) Creates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates
}

// Endpoints returns the stored endpoints, by id.
func (s *Server) Endpoints() map[string]map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]map[string]any, len(s.endpoints))
	for id, ep := range s.endpoints {
		out[id] = clone(ep.data)
	}
	return out
}

// Worker returns the handler process of an endpoint, or nil.
func (s *Server) Worker(id string) *Worker {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ep := s.endpoints[id]; ep != nil {
		return ep.worker
	}
	return nil
}

func clone(m map[string]any) map[string]any {
	data, _ := json.Marshal(m)
	var out map[string]any
	json.Unmarshal(data, &out)
	return out
}

// ServeHTTP routes API calls under /v2 and endpoint traffic under /ep/{id}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/ep/"); ok {
		s.serveEndpoint(w, r, rest)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/v2")
	if !ok {
		problem(w, http.StatusNotFound, "not found", nil)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: path, Body: body})
	fault := s.takeFault(r.Method, path)
	s.mu.Unlock()

	if r.Header.Get("Authorization") != "Bearer "+s.APIKey {
		problem(w, http.StatusUnauthorized, "invalid api key", nil)
		return
	}
	if fault != nil && !fault.Drop {
		if fault.RetryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(fault.RetryAfter))
		}
		problem(w, fault.Status, http.StatusText(fault.Status), nil)
		return
	}
	if fault != nil && !fault.AfterApply {
		drop(w)
		return
	}
	rec := &recorder{header: http.Header{}}
	s.api(rec, r.Method, path, body)
	if fault != nil {
		drop(w) // applied, but the answer is lost
		return
	}
	maps.Copy(w.Header(), rec.header)
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

func (s *Server) takeFault(method, path string) *Fault {
	for i, f := range s.faults {
		if (f.Method == "" || f.Method == method) && strings.HasPrefix(path, f.Path) {
			f.Times--
			if f.Times <= 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			return f
		}
	}
	return nil
}

func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

func problem(w http.ResponseWriter, status int, detail string, errs []string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	p := map[string]any{"title": http.StatusText(status), "status": status, "detail": detail}
	if len(errs) > 0 {
		list := make([]map[string]string, len(errs))
		for i, e := range errs {
			loc, msg, _ := strings.Cut(e, ": ")
			list[i] = map[string]string{"location": loc, "message": msg}
		}
		p["errors"] = list
	}
	json.NewEncoder(w).Encode(p)
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

var (
	idPattern   = regexp.MustCompile(`^/serverless/([^/]+)$`)
	portPattern = regexp.MustCompile(`^\d+/(http|tcp)$`)
)

func (s *Server) api(w http.ResponseWriter, method, path string, body []byte) {
	switch {
	case path == "/serverless" && method == http.MethodPost:
		s.create(w, body)
	case path == "/serverless" && method == http.MethodGet:
		s.mu.Lock()
		list := []map[string]any{}
		for _, ep := range s.endpoints {
			list = append(list, clone(ep.data))
		}
		s.mu.Unlock()
		sort.Slice(list, func(i, j int) bool {
			return list[i]["createdAt"].(string)+list[i]["id"].(string) < list[j]["createdAt"].(string)+list[j]["id"].(string)
		})
		reply(w, http.StatusOK, map[string]any{"endpoints": list})
	case idPattern.MatchString(path):
		id := idPattern.FindStringSubmatch(path)[1]
		switch method {
		case http.MethodGet:
			s.mu.Lock()
			ep := s.endpoints[id]
			s.mu.Unlock()
			if ep == nil {
				problem(w, http.StatusNotFound, "endpoint "+id+" not found", nil)
				return
			}
			reply(w, http.StatusOK, clone(ep.data))
		case http.MethodPatch:
			s.update(w, id, body)
		case http.MethodDelete:
			s.mu.Lock()
			ep := s.endpoints[id]
			delete(s.endpoints, id)
			s.mu.Unlock()
			if ep == nil {
				problem(w, http.StatusNotFound, "endpoint "+id+" not found", nil)
				return
			}
			ep.worker.Stop()
			w.WriteHeader(http.StatusNoContent)
		default:
			problem(w, http.StatusMethodNotAllowed, "method not allowed", nil)
		}
	case path == "/registries" && method == http.MethodPost:
		var in map[string]any
		if errs := decode(body, &in, []string{"name", "username", "password"}); len(errs) > 0 {
			problem(w, http.StatusUnprocessableEntity, "Request validation failed.", errs)
			return
		}
		for _, k := range []string{"name", "username", "password"} {
			if v, _ := in[k].(string); v == "" {
				problem(w, http.StatusUnprocessableEntity, "Request validation failed.", []string{"body." + k + ": required"})
				return
			}
		}
		r := map[string]any{"id": newID(), "name": in["name"]}
		s.mu.Lock()
		s.registries[r["id"].(string)] = r
		s.mu.Unlock()
		reply(w, http.StatusCreated, r)
	case path == "/registries" && method == http.MethodGet:
		s.mu.Lock()
		list := slices.Collect(maps.Values(s.registries))
		s.mu.Unlock()
		reply(w, http.StatusOK, list)
	case strings.HasPrefix(path, "/registries/") && method == http.MethodDelete:
		id := strings.TrimPrefix(path, "/registries/")
		s.mu.Lock()
		_, ok := s.registries[id]
		delete(s.registries, id)
		s.mu.Unlock()
		if !ok {
			problem(w, http.StatusNotFound, "registry "+id+" not found", nil)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		problem(w, http.StatusNotFound, "no route for "+method+" "+path, nil)
	}
}

var (
	createKeys = []string{"name", "type", "image", "env", "ports", "disk", "registry", "gpu", "cpu", "workers",
		"scaling", "dataCenterIds", "networkVolumes", "timeout", "flashboot", "templateId", "args"}
	updateKeys = []string{"name", "image", "env", "ports", "disk", "registry", "gpu", "cpu", "workers",
		"scaling", "dataCenterIds", "networkVolumes", "timeout", "flashboot", "templateId", "args"}
)

// decode reads a JSON object, listing unknown fields as errors.
func decode(body []byte, out *map[string]any, known []string) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil || *out == nil {
		return []string{"body: expected a JSON object"}
	}
	var errs []string
	for _, k := range slices.Sorted(maps.Keys(*out)) {
		if !slices.Contains(known, k) {
			errs = append(errs, "body."+k+": unexpected property")
		}
	}
	return errs
}

func (s *Server) create(w http.ResponseWriter, body []byte) {
	var in map[string]any
	if errs := decode(body, &in, createKeys); len(errs) > 0 {
		problem(w, http.StatusUnprocessableEntity, "Request validation failed.", errs)
		return
	}
	var errs []string
	if name, _ := in["name"].(string); name == "" {
		errs = append(errs, "body.name: required")
	}
	typ, _ := in["type"].(string)
	if typ != "QUEUE" && typ != "LOAD_BALANCER" {
		errs = append(errs, "body.type: expected QUEUE or LOAD_BALANCER")
	}
	if img, _ := in["image"].(string); img == "" {
		errs = append(errs, "body.image: required")
	}
	if _, ok := in["scaling"]; !ok {
		errs = append(errs, "body.scaling: required")
	}
	_, gpu := in["gpu"]
	_, cpu := in["cpu"]
	if gpu == cpu {
		errs = append(errs, "body: exactly one of gpu or cpu is required")
	}
	errs = append(errs, validate(in, typ, scalerType(in))...)
	if len(errs) > 0 {
		problem(w, http.StatusUnprocessableEntity, "Request validation failed.", errs)
		return
	}
	id := newID()
	data := clone(in)
	data["id"] = id
	data["createdAt"] = time.Now().UTC().Format(time.RFC3339Nano)
	defaults(data)
	base := strings.TrimSuffix(s.URL, "/v2") + "/ep/" + id
	if typ == "LOAD_BALANCER" {
		data["requestUrls"] = map[string]any{"base": base, "health": base + "/ping"}
	} else {
		urls := map[string]any{"health": base + "/health"}
		for k, p := range map[string]string{"run": "/run", "runSync": "/runsync", "status": "/status/{job_id}",
			"stream": "/stream/{job_id}", "cancel": "/cancel/{job_id}", "retry": "/retry/{job_id}", "purgeQueue": "/purge-queue"} {
			urls[k] = base + p
		}
		data["requestUrls"] = urls
	}
	ep := &endpoint{data: data}
	s.mu.Lock()
	s.endpoints[id] = ep
	s.creates++
	s.mu.Unlock()
	s.release(ep)
	reply(w, http.StatusCreated, clone(data))
}

func defaults(data map[string]any) {
	wk, _ := data["workers"].(map[string]any)
	if wk == nil {
		wk = map[string]any{}
	}
	for k, v := range map[string]any{"min": 0, "max": 3, "idleTimeout": 10} {
		if _, ok := wk[k]; !ok {
			wk[k] = v
		}
	}
	data["workers"] = wk
	dropIdleTimeout(data)
	for k, v := range map[string]any{"dataCenterIds": []any{}, "networkVolumes": []any{}, "flashboot": "OFF", "timeout": 0, "env": map[string]any{}} {
		if _, ok := data[k]; !ok {
			data[k] = v
		}
	}
}

func (s *Server) update(w http.ResponseWriter, id string, body []byte) {
	var in map[string]any
	if errs := decode(body, &in, updateKeys); len(errs) > 0 {
		for i, e := range errs {
			if strings.HasPrefix(e, "body.type:") {
				errs[i] = "body.type: the endpoint type cannot change after creation"
			}
		}
		problem(w, http.StatusUnprocessableEntity, "Request validation failed.", errs)
		return
	}
	s.mu.Lock()
	ep := s.endpoints[id]
	s.mu.Unlock()
	if ep == nil {
		problem(w, http.StatusNotFound, "endpoint "+id+" not found", nil)
		return
	}
	typ, _ := ep.data["type"].(string)
	scaler := scalerType(in)
	if scaler == "" {
		scaler = scalerType(ep.data)
	}
	errs := validate(in, typ, scaler)
	if _, ok := in["gpu"]; ok && ep.data["gpu"] == nil {
		errs = append(errs, "body.gpu: the compute family of an endpoint cannot change")
	}
	if _, ok := in["cpu"]; ok && ep.data["cpu"] == nil {
		errs = append(errs, "body.cpu: the compute family of an endpoint cannot change")
	}
	if len(errs) > 0 {
		problem(w, http.StatusUnprocessableEntity, "Request validation failed.", errs)
		return
	}
	s.mu.Lock()
	data := clone(ep.data)
	release := false
	for k, v := range in {
		if k == "workers" {
			wk, _ := data["workers"].(map[string]any)
			maps.Copy(wk, v.(map[string]any)) // partial: omitted bounds stay
			continue
		}
		if k == "image" || k == "env" {
			release = true
		}
		data[k] = v // env included: an env in a PATCH replaces the whole env
	}
	dropIdleTimeout(data)
	ep.data = data
	s.mu.Unlock()
	if release {
		s.release(ep) // image or env changes roll out as a new release
	} else if _, ok := in["workers"]; ok {
		s.scale(ep) // a raised minimum starts a worker
	}
	reply(w, http.StatusOK, clone(data))
}

// scalerType is the scaling type a body or a stored endpoint names.
func scalerType(m map[string]any) string {
	sc, _ := m["scaling"].(map[string]any)
	t, _ := sc["type"].(string)
	return t
}

// idleTimeoutApplies reports whether workers.idleTimeout means anything:
// RunPod rejects it for queue endpoints that scale on requestCount, and
// leaves it out of their answers.
func idleTimeoutApplies(typ, scaler string) bool {
	return !(typ == "QUEUE" && scaler == "REQUEST_COUNT")
}

// dropIdleTimeout removes workers.idleTimeout from a stored endpoint for
// which it does not apply.
func dropIdleTimeout(data map[string]any) {
	typ, _ := data["type"].(string)
	if wk, ok := data["workers"].(map[string]any); ok && !idleTimeoutApplies(typ, scalerType(data)) {
		delete(wk, "idleTimeout")
	}
}

// Keys RunPod's schemas allow inside gpu and cpu entries (their
// unevaluatedProperties are false).
var (
	gpuKeys = []string{"pools", "excludedTypes", "count", "allowedCudaVersions", "minCudaVersion"}
	cpuKeys = []string{"id", "vcpuCount"}
)

// validate checks the fields both create and update accept; scaler is the
// scaling type the endpoint will have.
func validate(in map[string]any, typ, scaler string) []string {
	var errs []string
	if sc, ok := in["scaling"]; ok {
		m, _ := sc.(map[string]any)
		st, _ := m["type"].(string)
		switch st {
		case "REQUEST_COUNT":
			if n, err := number(m["requestCount"]); err != nil || n < 1 {
				errs = append(errs, "body.scaling.requestCount: expected an integer ≥ 1")
			}
			if _, ok := m["queueDelay"]; ok {
				errs = append(errs, "body.scaling.queueDelay: unexpected property")
			}
		case "QUEUE_DELAY":
			if typ == "LOAD_BALANCER" {
				errs = append(errs, "body.scaling.type: load-balancing endpoints require REQUEST_COUNT")
			}
			if n, err := number(m["queueDelay"]); err != nil || n < 0.5 {
				errs = append(errs, "body.scaling.queueDelay: expected a number ≥ 0.5")
			}
			if _, ok := m["requestCount"]; ok {
				errs = append(errs, "body.scaling.requestCount: unexpected property")
			}
		default:
			errs = append(errs, "body.scaling.type: expected QUEUE_DELAY or REQUEST_COUNT")
		}
	}
	if wk, ok := in["workers"]; ok {
		m, _ := wk.(map[string]any)
		for k, v := range m {
			n, err := number(v)
			switch {
			case k != "min" && k != "max" && k != "idleTimeout":
				errs = append(errs, "body.workers."+k+": unexpected property")
			case err != nil || n < 0 || k == "idleTimeout" && (n < 1 || n > 3600):
				errs = append(errs, "body.workers."+k+": out of range")
			}
		}
		if _, ok := m["idleTimeout"]; ok && !idleTimeoutApplies(typ, scaler) {
			errs = append(errs, "body.workers.idleTimeout: not applicable to queue-based endpoints scaling on requestCount")
		}
		lo, e1 := number(m["min"])
		hi, e2 := number(m["max"])
		if e1 == nil && e2 == nil && lo > hi {
			errs = append(errs, "body.workers.min: greater than max")
		}
	}
	if fb, ok := in["flashboot"]; ok && !slices.Contains([]any{"OFF", "FLASHBOOT", "PRIORITY_FLASHBOOT"}, fb) {
		errs = append(errs, "body.flashboot: expected OFF, FLASHBOOT or PRIORITY_FLASHBOOT")
	}
	if ports, ok := in["ports"].([]any); ok {
		for _, p := range ports {
			if s, _ := p.(string); !portPattern.MatchString(s) {
				errs = append(errs, fmt.Sprintf("body.ports: %v is not port/protocol", p))
			}
		}
	}
	if env, ok := in["env"]; ok {
		m, isMap := env.(map[string]any)
		if !isMap {
			errs = append(errs, "body.env: expected an object")
		}
		for k, v := range m {
			if _, ok := v.(string); !ok {
				errs = append(errs, "body.env."+k+": expected a string")
			}
		}
	}
	if gpu, ok := in["gpu"].(map[string]any); ok {
		if pools, _ := gpu["pools"].([]any); len(pools) == 0 {
			errs = append(errs, "body.gpu.pools: at least one pool is required")
		}
		if c, ok := gpu["count"]; ok {
			if n, err := number(c); err != nil || n < 1 || n != float64(int(n)) {
				errs = append(errs, "body.gpu.count: expected an integer ≥ 1")
			}
		}
		for _, k := range slices.Sorted(maps.Keys(gpu)) {
			if !slices.Contains(gpuKeys, k) {
				errs = append(errs, "body.gpu."+k+": unexpected property")
			}
		}
	}
	if cpu, ok := in["cpu"]; ok {
		list, _ := cpu.([]any)
		if len(list) == 0 {
			errs = append(errs, "body.cpu: at least one configuration is required")
		}
		seen := map[string]bool{}
		for _, c := range list {
			m, _ := c.(map[string]any)
			n, err := number(m["vcpuCount"])
			if id, _ := m["id"].(string); id == "" || err != nil || n < 2 || int(n)&(int(n)-1) != 0 {
				errs = append(errs, fmt.Sprintf("body.cpu: %v needs an id and a power-of-two vcpuCount ≥ 2", c))
			}
			for _, k := range slices.Sorted(maps.Keys(m)) {
				if !slices.Contains(cpuKeys, k) {
					errs = append(errs, "body.cpu."+k+": unexpected property")
				}
			}
			key, _ := json.Marshal(m) // sorted keys: equal entries, equal keys
			if seen[string(key)] {
				errs = append(errs, fmt.Sprintf("body.cpu: %v is listed twice", c))
			}
			seen[string(key)] = true
		}
	}
	if d, ok := in["disk"]; ok {
		if n, err := number(d); err != nil || n < 1 {
			errs = append(errs, "body.disk: expected an integer ≥ 1")
		}
	}
	return errs
}

func number(v any) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("not a number")
	}
	return n.Float64()
}

func newID() string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 14)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// release (re)starts the endpoint's worker on its current image and env:
// load balancers and queues with workers.min ≥ 1 get one at once, the
// others on their first request.
func (s *Server) release(ep *endpoint) {
	s.mu.Lock()
	old := ep.worker
	ep.worker = nil
	data := clone(ep.data)
	s.mu.Unlock()
	old.Stop()
	if s.Launcher == nil {
		return
	}
	wk, _ := data["workers"].(map[string]any)
	if n, _ := wk["min"].(float64); n >= 1 {
		s.worker(ep)
	}
}

// scale starts the endpoint's worker when its minimum asks for one.
func (s *Server) scale(ep *endpoint) {
	s.mu.Lock()
	wk, _ := clone(ep.data)["workers"].(map[string]any)
	s.mu.Unlock()
	if n, _ := wk["min"].(float64); n >= 1 {
		s.worker(ep)
	}
}

// worker returns the endpoint's worker, starting it when there is none.
func (s *Server) worker(ep *endpoint) *Worker {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ep.worker != nil || s.Launcher == nil {
		return ep.worker
	}
	image, _ := ep.data["image"].(string)
	env := map[string]string{}
	if m, ok := ep.data["env"].(map[string]any); ok {
		for k, v := range m {
			env[k], _ = v.(string)
		}
	}
	ep.worker = s.Launcher.Start(image, env)
	return ep.worker
}

// portWired reports whether a load balancer's env sets PORT and
// PORT_HEALTH and its ports expose PORT/http: RunPod's edge routes to its
// workers only then (otherwise they stay "running, not ready").
func portWired(data map[string]any) bool {
	env, _ := data["env"].(map[string]any)
	port, _ := env["PORT"].(string)
	health, _ := env["PORT_HEALTH"].(string)
	if port == "" || health == "" {
		return false
	}
	ports, _ := data["ports"].([]any)
	return slices.Contains(ports, any(port+"/http"))
}

// serveEndpoint is the endpoint edge: load-balancer traffic is proxied to
// the worker (204 on /ping while there is none yet, or while the endpoint
// does not expose its port), queue health is answered from the worker's
// state.
func (s *Server) serveEndpoint(w http.ResponseWriter, r *http.Request, rest string) {
	id, sub, _ := strings.Cut(rest, "/")
	s.mu.Lock()
	ep := s.endpoints[id]
	var typ string
	routed := true
	if ep != nil {
		typ, _ = ep.data["type"].(string)
		routed = typ != "LOAD_BALANCER" || portWired(ep.data)
	}
	s.mu.Unlock()
	if ep == nil {
		http.Error(w, "no such endpoint", http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.APIKey {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	wk := s.worker(ep)
	if typ == "QUEUE" && sub == "health" {
		h := map[string]any{"jobs": map[string]int{"completed": 0, "failed": 0, "inProgress": 0, "inQueue": 0, "retried": 0}}
		counts := map[string]int{"idle": 0, "initializing": 0, "ready": 0, "running": 0, "throttled": 0, "unhealthy": 0}
		switch {
		case wk == nil:
		case wk.Failed() != nil:
			counts["unhealthy"] = 1
		case wk.Ready():
			counts["ready"], counts["idle"] = 1, 1
		default:
			counts["initializing"] = 1
		}
		h["workers"] = counts
		reply(w, http.StatusOK, h)
		return
	}
	if wk == nil || !wk.Ready() || !routed {
		if sub == "ping" && (wk == nil || wk.Failed() == nil) {
			w.WriteHeader(http.StatusNoContent) // initializing
			return
		}
		http.Error(w, "no worker ready", http.StatusServiceUnavailable)
		return
	}
	target, _ := url.Parse(wk.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + sub
	r2.URL.RawPath = ""
	proxy.ServeHTTP(w, r2)
}
