package image_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/flash-lsp/flash-lsp/deploy/image"
	"github.com/flash-lsp/flash-lsp/deploy/runpod"
	"github.com/flash-lsp/flash-lsp/internal/fakerunpod"
)

// pingServer is a stand-in handler: it serves /ping on PORT once the
// manifest named by FLASH_MANIFEST_PATH can be read.
const pingServer = `package main

import (
	"net/http"
	"os"
)

func main() {
	if _, err := os.ReadFile(os.Getenv("FLASH_MANIFEST_PATH")); err != nil {
		panic(err)
	}
	http.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{\"status\":\"healthy\"}")) })
	panic(http.ListenAndServe(os.Getenv("HOST")+":"+os.Getenv("PORT"), nil))
}
`

func buildBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module ping\n\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(pingServer), 0o644)
	out := filepath.Join(dir, "handler")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	return out
}

func startRegistry(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestBuildPushPullRun(t *testing.T) {
	bin := buildBinary(t)
	reg := startRegistry(t, registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	spec := image.Spec{Binary: bin, Manifest: []byte(`{"version":"1.0"}` + "\n"), Module: "github.com/acme/app",
		Created: time.Unix(1700000000, 0)}
	img, err := image.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	again, err := image.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Fatalf("two builds of the same inputs: %s and %s", d1, d2)
	}
	spec.Created = time.Unix(1700000001, 0)
	other, _ := image.Build(spec)
	if d3, _ := other.Digest(); d3 == d1 {
		t.Error("SOURCE_DATE_EPOCH does not reach the digest")
	}

	ref := image.Reference(reg, "test-api", d1)
	if want := reg + "/test-api:sha-" + d1.Hex[:12]; ref != want {
		t.Fatalf("Reference = %s, want %s", ref, want)
	}
	p := &image.Pusher{Options: []remote.Option{remote.WithTransport(fakerunpod.LoopbackTransport())}}
	ctx := context.Background()
	if pushed, err := p.Push(ctx, img, ref); err != nil || !pushed {
		t.Fatalf("push = %v, %v", pushed, err)
	}
	if pushed, err := p.Push(ctx, again, ref); err != nil || pushed {
		t.Fatalf("second push of the same digest = %v, %v; want nothing pushed", pushed, err)
	}

	// Pull it back and look at it as a registry client would.
	r, _ := name.ParseReference(ref)
	pulled, err := remote.Image(r, remote.WithTransport(fakerunpod.LoopbackTransport()))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := pulled.Digest(); d != d1 {
		t.Errorf("pulled digest %s, pushed %s", d, d1)
	}
	mt, _ := pulled.MediaType()
	m, _ := pulled.Manifest()
	if mt != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("media types %s / %s, want OCI", mt, m.Config.MediaType)
	}
	for _, l := range m.Layers {
		if l.MediaType != types.OCILayer {
			t.Errorf("layer media type %s, want %s", l.MediaType, types.OCILayer)
		}
	}
	cf, _ := pulled.ConfigFile()
	if cf.OS != "linux" || cf.Architecture != "amd64" || strings.Join(cf.Config.Entrypoint, " ") != image.HandlerPath ||
		!contains(cf.Config.Env, "FLASH_MANIFEST_PATH="+image.ManifestPath) ||
		cf.Config.Labels[image.SourceLabel] != "https://github.com/acme/app" || !cf.Created.Time.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("config = %+v", cf.Config)
	}
	files := map[string]*tar.Header{}
	layers, _ := pulled.Layers()
	for _, l := range layers {
		rc, _ := l.Uncompressed()
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = h
		}
		rc.Close()
	}
	for name, mode := range map[string]int64{"flash/handler": 0o555, "flash/flash_manifest.json": 0o444, "etc/ssl/certs/ca-certificates.crt": 0o444} {
		h := files[name]
		if h == nil {
			t.Errorf("%s missing from the image", name)
			continue
		}
		if h.Mode != mode || h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("%s: mode %o uid %d gid %d mtime %v", name, h.Mode, h.Uid, h.Gid, h.ModTime)
		}
	}

	// Run the binary at its Entrypoint with its Env: it answers /ping.
	l := &fakerunpod.Launcher{Dir: t.TempDir(), Remote: []remote.Option{remote.WithTransport(fakerunpod.LoopbackTransport())}}
	w := l.Start(ref, nil)
	defer w.Stop()
	deadline := time.Now().Add(20 * time.Second)
	for !w.Ready() {
		if err := w.Failed(); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the image's handler never answered /ping")
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := fakerunpod.LoopbackClient().Get(w.URL() + "/ping")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/ping: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestRegistryRejectsPush(t *testing.T) {
	bin := buildBinary(t)
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	reg := startRegistry(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"errors":[{"code":"DENIED","message":"push denied"}]}`)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	img, err := image.Build(image.Spec{Binary: bin, Manifest: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	p := &image.Pusher{Options: []remote.Option{remote.WithTransport(fakerunpod.LoopbackTransport())}}
	_, err = p.Push(context.Background(), img, image.Reference(reg, "x", d))
	if err == nil || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("push to a rejecting registry: %v, want the denial", err)
	}
}

func TestSourceLabelOnlyForURLModules(t *testing.T) {
	bin := buildBinary(t)
	for module, want := range map[string]string{"example.com/app": "https://example.com/app", "quickstart": "", "app/x": ""} {
		img, err := image.Build(image.Spec{Binary: bin, Manifest: []byte("{}"), Module: module})
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		if got := cf.Config.Labels[image.SourceLabel]; got != want {
			t.Errorf("module %s: label %q, want %q", module, got, want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A --base image keeps its layers and env; the handler layer goes on top.
func TestBuildOnBase(t *testing.T) {
	bin := buildBinary(t)
	base, err := image.Build(image.Spec{Binary: bin, Manifest: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := base.ConfigFile()
	cf = cf.DeepCopy()
	cf.Config.Env = append(cf.Config.Env, "BASE_VAR=1")
	base, _ = mutate.ConfigFile(base, cf)
	img, err := image.Build(image.Spec{Binary: bin, Manifest: []byte(`{"x":1}`), Base: base})
	if err != nil {
		t.Fatal(err)
	}
	bl, _ := base.Layers()
	il, _ := img.Layers()
	if len(il) != len(bl)+1 {
		t.Errorf("%d layers on a base of %d, want one more", len(il), len(bl))
	}
	got, _ := img.ConfigFile()
	if !contains(got.Config.Env, "BASE_VAR=1") || !contains(got.Config.Env, "FLASH_MANIFEST_PATH="+image.ManifestPath) {
		t.Errorf("env = %v", got.Config.Env)
	}
}

// TestFakeLoadBalancerNeedsItsPort: like RunPod, the fake routes to a load
// balancer's worker only when the endpoint's env sets PORT and PORT_HEALTH
// and its ports expose PORT/http; otherwise the worker runs but /ping at
// the endpoint answers 204 (not ready) for ever.
func TestFakeLoadBalancerNeedsItsPort(t *testing.T) {
	bin := buildBinary(t)
	reg := startRegistry(t, registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	img, err := image.Build(image.Spec{Binary: bin, Manifest: []byte("{}\n")})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	ref := image.Reference(reg, "lb", d)
	opts := []remote.Option{remote.WithTransport(fakerunpod.LoopbackTransport())}
	if _, err := (&image.Pusher{Options: opts}).Push(context.Background(), img, ref); err != nil {
		t.Fatal(err)
	}
	fake := fakerunpod.Start(t, "k")
	fake.Launcher = &fakerunpod.Launcher{Dir: t.TempDir(), Log: io.Discard, Remote: opts}
	c := &runpod.Client{BaseURL: fake.URL, APIKey: "k", HTTP: fakerunpod.LoopbackClient()}
	one := 1
	create := func(name string, env map[string]string, ports []string) *runpod.Endpoint {
		ep, err := c.CreateEndpoint(context.Background(), &runpod.CreateEndpoint{Name: name, Type: runpod.TypeLoadBalancer,
			Image: ref, Env: env, Ports: ports, CPU: []runpod.CPU{{ID: "cpu3c", VCPUCount: 2}},
			Workers: &runpod.Workers{Min: &one, Max: &one}, Scaling: runpod.Scaling{Type: runpod.ScalerRequestCount, RequestCount: &one}})
		if err != nil {
			t.Fatal(err)
		}
		return ep
	}
	ping := func(ep *runpod.Endpoint) int {
		req, _ := http.NewRequest(http.MethodGet, ep.RequestURLs.Health, nil)
		req.Header.Set("Authorization", "Bearer k")
		resp, err := fakerunpod.LoopbackClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	wired := create("wired", map[string]string{"PORT": "80", "PORT_HEALTH": "80"}, []string{"80/http"})
	bare := create("bare", nil, nil)
	unexposed := create("unexposed", map[string]string{"PORT": "8080", "PORT_HEALTH": "8080"}, []string{"80/http"})
	deadline := time.Now().Add(20 * time.Second)
	for ping(wired) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the wired load balancer never became healthy")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, ep := range []*runpod.Endpoint{bare, unexposed} {
		for w := fake.Worker(ep.ID); w == nil || !w.Ready(); w = fake.Worker(ep.ID) {
			if time.Now().After(deadline) || w.Failed() != nil {
				t.Fatalf("%s: its worker does not run: %v", ep.Name, w.Failed())
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got := ping(ep); got != http.StatusNoContent {
			t.Errorf("%s: /ping at the endpoint = %d, want 204 (running, not ready)", ep.Name, got)
		}
	}
}
