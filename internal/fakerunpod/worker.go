package fakerunpod

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Launcher starts workers from images in a registry, the way RunPod pulls
// an endpoint's image and runs it.
type Launcher struct {
	// Dir holds the unpacked images (a test's temp dir).
	Dir string
	// Remote are the options used to pull (authentication, transport).
	Remote []remote.Option
	// Log receives the workers' output (io.Discard when nil).
	Log io.Writer

	mu   sync.Mutex
	seq  int
	runs []*Worker
}

// Worker is one handler process run from an image.
type Worker struct {
	Image string
	Env   map[string]string

	mu     sync.Mutex
	url    string
	ready  bool
	failed error
	cmd    *exec.Cmd
	done   chan struct{}
	cancel context.CancelFunc
}

// Workers returns every worker started so far.
func (l *Launcher) Workers() []*Worker {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*Worker(nil), l.runs...)
}

// Start pulls image and runs it in the background with the endpoint's env
// and PORT (and PORT_HEALTH) set to a free loopback port.
func (l *Launcher) Start(image string, env map[string]string) *Worker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &Worker{Image: image, Env: env, done: make(chan struct{}), cancel: cancel}
	l.mu.Lock()
	l.seq++
	dir := filepath.Join(l.Dir, fmt.Sprintf("worker-%d", l.seq))
	l.runs = append(l.runs, w)
	l.mu.Unlock()
	go func() {
		defer close(w.done)
		if err := l.run(ctx, w, dir); err != nil && ctx.Err() == nil {
			w.mu.Lock()
			w.failed = err
			w.mu.Unlock()
		}
	}()
	return w
}

func (l *Launcher) run(ctx context.Context, w *Worker, dir string) error {
	ref, err := name.ParseReference(w.Image)
	if err != nil {
		return fmt.Errorf("image %q: %w", w.Image, err)
	}
	img, err := remote.Image(ref, append([]remote.Option{remote.WithContext(ctx)}, l.Remote...)...)
	if err != nil {
		return fmt.Errorf("pulling %s: %w", w.Image, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("reading the config of %s: %w", w.Image, err)
	}
	if err := Unpack(img, dir); err != nil {
		return err
	}
	if len(cfg.Config.Entrypoint) == 0 {
		return fmt.Errorf("image %s has no Entrypoint", w.Image)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()

	// The image's Env first, then the endpoint's, then what the host sets.
	env := []string{"PATH=/usr/bin:/bin"}
	env = append(env, cfg.Config.Env...)
	for k, v := range w.Env {
		env = append(env, k+"="+v)
	}
	// Paths inside the image are relative to its root here.
	for i, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(v, "/flash/") {
			env[i] = k + "=" + filepath.Join(dir, v)
		}
	}
	env = append(env, "HOST=127.0.0.1", "PORT="+port, "PORT_HEALTH="+port, "FLASH_DRAIN_GRACE=0")
	argv := append(append([]string(nil), cfg.Config.Entrypoint...), cfg.Config.Cmd...)
	cmd := exec.CommandContext(ctx, filepath.Join(dir, argv[0]), argv[1:]...)
	cmd.Env = env
	cmd.Dir = dir
	if l.Log != nil {
		cmd.Stdout, cmd.Stderr = l.Log, l.Log
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", argv[0], err)
	}
	w.mu.Lock()
	w.cmd = cmd
	w.url = "http://127.0.0.1:" + port
	w.mu.Unlock()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("worker of %s exited: %v", w.Image, err)
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := client.Get(w.url + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				w.mu.Lock()
				w.ready = true
				w.mu.Unlock()
				break
			}
		}
	}
	err = <-exited
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("worker of %s exited: %v", w.Image, err)
}

// Unpack writes the flattened filesystem of img under dir, keeping modes.
func Unpack(img v1.Image, dir string) error {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unpacking: %w", err)
		}
		name := filepath.Clean("/" + h.Name)
		dest := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dest, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(dest, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777|0o200)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, tr); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			if err := os.Chmod(dest, os.FileMode(h.Mode)&0o777); err != nil {
				return err
			}
		}
	}
}

// URL is the worker's base URL once started.
func (w *Worker) URL() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.url
}

// Ready reports whether the worker's /ping answered 200.
func (w *Worker) Ready() bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ready && w.failed == nil
}

// Failed returns why the worker could not run, or nil.
func (w *Worker) Failed() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

// Stop ends the worker and waits for it.
func (w *Worker) Stop() {
	if w == nil {
		return
	}
	w.cancel()
	<-w.done
}
