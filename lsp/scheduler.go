package lsp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"go.lsp.dev/protocol"

	"github.com/flash-lsp/flash-lsp/analysis/engine"
)

// The scheduler: one goroutine per module runs its analysis in the
// background. Every edit, open, close and file change calls schedule,
// which cancels the run in progress through the module's one cancel func
// and kicks the loop; the loop analyses the newest text once a burst of
// edits pauses, and publishes its diagnostics. Requests that need the
// analysis of the text they see wait for it (current) without blocking the
// message queue.

// moduleState runs one module's analysis in a background goroutine. An
// edit cancels the run in progress and asks for a new one; runs never
// overlap, so diagnostics are computed from the newest text.
type moduleState struct {
	s    *Server
	mod  *engine.Module
	kick chan struct{}

	mu        sync.Mutex
	cancel    context.CancelFunc // of the run in progress
	first     []string           // files to publish first in the next run
	stopped   bool
	published map[string]string // filename → JSON of the last diagnostics sent
	ready     chan struct{}     // closed after the first completed run
	readyOnce sync.Once
	updated   chan struct{} // closed and replaced after each completed run
	lastKick  time.Time
	lastErr   string // the last analysis failure shown; only loop uses it
	busy      bool   // a run is queued or in progress
	burst     bool   // the last edit came while busy, or right after another
}

// A burst of edits (a paste, a formatter, auto-repeat, a client replaying
// changes) is analysed once it pauses for quiet: an edit that arrives while
// the previous one is still being analysed, or within quiet of it (an
// analysis faster than the client's stream of changes), marks a burst. A
// lone edit is analysed at once.
const quiet = 5 * time.Millisecond

func newModuleState(s *Server, mod *engine.Module) *moduleState {
	ms := &moduleState{
		s:         s,
		mod:       mod,
		kick:      make(chan struct{}, 1),
		published: make(map[string]string),
		ready:     make(chan struct{}),
		updated:   make(chan struct{}),
	}
	go ms.loop()
	return ms
}

// schedule asks for a new analysis run of ms; files are published first.
func (s *Server) schedule(ms *moduleState, files []string) {
	if ms == nil {
		return
	}
	ms.mu.Lock()
	if ms.stopped {
		ms.mu.Unlock()
		return
	}
	ms.first = append(ms.first, files...)
	ms.burst = ms.busy || time.Since(ms.lastKick) < quiet
	ms.busy = true
	ms.lastKick = time.Now()
	if ms.cancel != nil {
		ms.cancel()
	}
	select {
	case ms.kick <- struct{}{}:
	default:
	}
	ms.mu.Unlock()
}

func (ms *moduleState) stop() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.stopped = true
	if ms.cancel != nil {
		ms.cancel()
	}
}

// snapshot waits for the first analysis of the module to finish (or ctx)
// and returns the latest snapshot.
func (ms *moduleState) snapshot(ctx context.Context) (*engine.Snapshot, error) {
	select {
	case <-ms.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return ms.mod.Snapshot(), nil
}

// current waits until the module's snapshot reflects the current text of
// filename (its open buffer, if any), for at most timeout, and returns the
// newest snapshot it has. The snapshot may be nil when the module never
// loaded.
func (ms *moduleState) current(ctx context.Context, filename string, timeout time.Duration) *engine.Snapshot {
	return ms.currentWhen(ctx, timeout, func(snap *engine.Snapshot) bool {
		doc, open := ms.s.document(filename)
		f := snap.Files[filename]
		return !open || f == nil || bytes.Equal(f.Content, doc.text)
	})
}

// currentWhen waits, at most timeout, until the module's snapshot satisfies
// fresh, and returns the newest snapshot it has (nil when the module never
// loaded).
func (ms *moduleState) currentWhen(ctx context.Context, timeout time.Duration, fresh func(*engine.Snapshot) bool) *engine.Snapshot {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	select {
	case <-ms.ready:
	case <-ctx.Done():
		return nil
	case <-deadline.C:
		return nil
	}
	for {
		ms.mu.Lock()
		updated := ms.updated
		ms.mu.Unlock()
		snap := ms.mod.Snapshot()
		if snap == nil {
			return nil
		}
		if fresh(snap) {
			return snap
		}
		select {
		case <-updated:
		case <-ctx.Done():
			return snap
		case <-deadline.C:
			return snap
		}
	}
}

func (ms *moduleState) loop() {
	s := ms.s
	for {
		select {
		case <-ms.kick:
		case <-s.ctx.Done():
			return
		}
		for {
			ms.mu.Lock()
			d := quiet - time.Since(ms.lastKick)
			burst := ms.burst
			ms.mu.Unlock()
			if !burst || d <= 0 {
				break
			}
			time.Sleep(d)
		}
		select {
		case <-ms.kick: // absorbed by this run
		default:
		}
		ctx, cancel := context.WithCancel(s.ctx)
		ms.mu.Lock()
		if ms.stopped {
			ms.mu.Unlock()
			cancel()
			return
		}
		ms.cancel = cancel
		first := ms.first
		ms.first = nil
		ms.mu.Unlock()

		overlays, versions := s.overlays(ms.mod)
		t0 := time.Now()
		var early delayed
		snap, err := ms.analyze(ctx, overlays, func(part *engine.Snapshot) {
			early.after(earlyDelay, func() { ms.publishEarly(part, versions, first) })
		})
		early.stop()
		cancel()
		if err == nil && len(snap.LoadErrors) > 0 {
			s.log.Printf("loading %s: %s", ms.mod.Dir, snap.LoadErrors[len(snap.LoadErrors)-1])
		}
		if err == nil {
			s.log.Printf("analysed %s in %v (%d packages re-checked; last metadata load %v)", ms.mod.Dir,
				time.Since(t0).Round(time.Microsecond), len(snap.Checked), ms.mod.LoadTime.Round(time.Millisecond))
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				// A newer edit is pending; keep its priority files.
				ms.mu.Lock()
				ms.first = append(first, ms.first...)
				ms.mu.Unlock()
				continue
			}
			s.log.Printf("analysing %s: %v", ms.mod.Dir, err)
			if msg := "flash-lsp: " + err.Error(); msg != ms.lastErr {
				// Once per distinct failure, not at every keystroke.
				ms.lastErr = msg
				s.showMessage(protocol.MessageTypeError, msg)
			}
			ms.readyOnce.Do(func() { close(ms.ready) })
			ms.mu.Lock()
			ms.busy, ms.burst = len(ms.kick) > 0, false
			close(ms.updated)
			ms.updated = make(chan struct{})
			ms.mu.Unlock()
			continue
		}
		ms.lastErr = ""
		ms.readyOnce.Do(func() { close(ms.ready) })
		ms.mu.Lock()
		close(ms.updated)
		ms.updated = make(chan struct{})
		// The edit is analysed: one that comes in while we publish, in
		// answer to what we publish, starts no burst.
		if len(ms.kick) == 0 {
			ms.busy, ms.burst = false, false
		}
		ms.mu.Unlock()
		ms.publish(snap, versions, first)
	}
}

// analyze runs the analysis; a panic in it (a bug, never user input)
// becomes an error instead of taking the session down.
func (ms *moduleState) analyze(ctx context.Context, overlays map[string][]byte, early func(*engine.Snapshot)) (snap *engine.Snapshot, err error) {
	defer func() {
		if r := recover(); r != nil {
			ms.s.log.Printf("panic analysing %s: %v\n%s", ms.mod.Dir, r, debug.Stack())
			snap, err = nil, fmt.Errorf("internal error analysing %s: %v", ms.mod.Dir, r)
		}
	}()
	return ms.mod.AnalyzeEarly(ctx, overlays, early)
}

// earlyDelay is how long a first run may take after the open buffers'
// packages are done before their per-package diagnostics are published
// early. A run that ends sooner publishes once, complete: an editor (or a
// client that reads the first publish) never sees a file without its
// whole-module findings, such as a route-conflict, on a small module.
const earlyDelay = 300 * time.Millisecond

// delayed runs a function after a delay unless stopped first. stop waits
// for a call in progress, so nothing it runs comes after stop returns.
type delayed struct {
	mu      sync.Mutex
	t       *time.Timer
	stopped bool
}

func (d *delayed) after(delay time.Duration, f func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	d.t = time.AfterFunc(delay, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if !d.stopped {
			f()
		}
	})
}

func (d *delayed) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	if d.t != nil {
		d.t.Stop()
	}
}
