package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/flash-lsp/flash-lsp/deploy/image"
	"github.com/flash-lsp/flash-lsp/deploy/runpod"
)

// Options configure Apply.
type Options struct {
	// Root is the module root (where .flash/deploy.json lives).
	Root   string
	Client *runpod.Client
	Pusher *image.Pusher
	// HTTP makes the health requests (http.DefaultClient when nil).
	HTTP *http.Client
	// APIKey is sent to health URLs on RunPod's hosts and on the host of
	// the explicitly configured API base URL, nowhere else.
	APIKey       string
	APIKeySecret string
	// Wait bounds the health wait; zero skips it.
	Wait time.Duration
	// PollInterval is the health wait's pace (1 s when zero).
	PollInterval time.Duration
	// Deletes applies the plan's deletes (--yes).
	Deletes bool
	// Log receives the progress lines.
	Log io.Writer
}

// StepError is a failed step of a deploy: which resource, which step.
type StepError struct {
	Resource, Step string
	Err            error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("resource %s: %s: %v", e.Resource, e.Step, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Apply carries out plan. built holds the images of the plan's resources;
// st is updated, and written after every API call that changed something.
func Apply(ctx context.Context, plan *Plan, built map[string]*Built, st *State, opts Options) error {
	a := &applier{opts: opts, st: st, built: built}
	if a.opts.Log == nil {
		a.opts.Log = io.Discard
	}
	return a.run(ctx, plan)
}

type applier struct {
	opts  Options
	st    *State
	built map[string]*Built
}

func (a *applier) logf(format string, args ...any) {
	fmt.Fprintf(a.opts.Log, format+"\n", args...)
}

func (a *applier) save(name, step string) error {
	if err := WriteState(a.opts.Root, a.st); err != nil {
		return &StepError{name, step, err}
	}
	return nil
}

func (a *applier) run(ctx context.Context, plan *Plan) error {
	// 0. The key never goes into an endpoint's env in clear text: an Env
	// literal holding it stops the deploy before anything happens.
	if a.opts.APIKey != "" {
		for _, s := range plan.Steps {
			if s.Resource == nil || s.Action == Unchanged {
				continue
			}
			env := s.Resource.UserEnv()
			for _, k := range slices.Sorted(maps.Keys(env)) {
				if env[k] == a.opts.APIKey {
					return &StepError{s.Name, "check env", fmt.Errorf("the Env entry %s holds the RunPod API key in clear text; "+
						"store it as a RunPod secret and name it with --api-key-secret", k)}
				}
			}
		}
	}

	// 1. Images: only those the plan deploys; an unchanged digest pushes
	// nothing.
	pushed, checked := 0, 0
	for _, s := range plan.Steps {
		if !needsImage(s) {
			continue
		}
		b := a.built[s.Name]
		if b == nil || b.Ref == "" {
			return &StepError{s.Name, "push image", fmt.Errorf("no image was built")}
		}
		checked++
		did, err := a.opts.Pusher.Push(ctx, b.Image, b.Ref)
		if err != nil {
			return &StepError{s.Name, "push image", err}
		}
		if did {
			pushed++
		}
	}
	if checked > 0 {
		a.logf("✓ Pushed %d of %d images", pushed, checked)
	}

	// 2. Deletes, only when asked for; replaced endpoints go too, since
	// their type cannot change.
	for _, s := range plan.Steps {
		switch {
		case s.Action == Delete && !a.opts.Deletes:
			a.logf("! Kept endpoint %s (%s): removed from the code, deleted only with --yes or by undeploy", s.Name, s.Prev.EndpointID)
		case s.Action == Delete || s.Action == Replace:
			if err := a.opts.Client.DeleteEndpoint(ctx, s.Prev.EndpointID); err != nil {
				return &StepError{s.Name, "delete endpoint " + s.Prev.EndpointID, err}
			}
			delete(a.st.Resources, s.Name)
			if err := a.save(s.Name, "delete endpoint"); err != nil {
				return err
			}
			a.logf("✓ Deleted endpoint %s (%s)", s.Name, s.Prev.EndpointID)
		}
	}

	// 3. Creates, each with the ids known so far.
	w := a.wiring(plan)
	for _, s := range plan.Steps {
		if s.Action != Create && s.Action != Replace {
			continue
		}
		if err := a.create(ctx, s, w); err != nil {
			return err
		}
		w.IDs[s.Name] = a.st.Resources[s.Name].EndpointID
	}

	// 4. Updates and wiring: now that every id is known, one PATCH per
	// endpoint with its changed config, its new image and its env when
	// the wiring changed.
	for _, s := range plan.Steps {
		if s.Resource == nil {
			continue
		}
		if err := a.update(ctx, s, w); err != nil {
			return err
		}
	}

	// 5. Health.
	if a.opts.Wait > 0 {
		if err := a.waitHealthy(ctx, plan); err != nil {
			return err
		}
	}
	return nil
}

func needsImage(s *Step) bool {
	return s.Action == Create || s.Action == Replace || s.Action == Update && slices.Contains(s.Changes, "image")
}

// wiring is the wiring of the endpoints that exist once the deletes are
// done: the state's ids, and the mothership of the code.
func (a *applier) wiring(plan *Plan) Wiring {
	w := Wiring{IDs: map[string]string{}, APIKeySecret: a.opts.APIKeySecret}
	for name, rs := range a.st.Resources {
		if rs.EndpointID != "" {
			w.IDs[name] = rs.EndpointID
		}
	}
	for _, s := range plan.Steps {
		if s.Resource != nil && s.Resource.Mothership {
			w.Mothership = s.Name
		}
	}
	return w
}

func (a *applier) create(ctx context.Context, s *Step, w Wiring) error {
	r, b := s.Resource, a.built[s.Name]
	env := r.Env(w)
	req := r.Create(b.Ref, env)

	// A create whose answer was lost in an earlier run may have made the
	// endpoint: find it before making another.
	var ep *runpod.Endpoint
	if prev := a.st.Resources[s.Name]; prev != nil && prev.PendingCreate {
		list, err := a.opts.Client.ListEndpoints(ctx)
		if err != nil {
			return &StepError{s.Name, "look for the endpoint of an interrupted create", err}
		}
		for i := range list {
			if list[i].Name == prev.Name && list[i].Type == prev.Type {
				ep = &list[i]
				a.logf("✓ Found endpoint %s (%s) created by an interrupted deploy", s.Name, ep.ID)
				break
			}
		}
	}
	if ep == nil {
		a.st.Resources[s.Name] = &ResourceState{PendingCreate: true, Name: req.Name, Type: r.Type, ResourceType: r.ResourceType}
		if err := a.save(s.Name, "create endpoint"); err != nil {
			return err
		}
		var err error
		if ep, err = a.opts.Client.CreateEndpoint(ctx, req); err != nil {
			var ae *runpod.APIError
			if errors.As(err, &ae) && ae.Status < 500 && ae.Status != http.StatusTooManyRequests {
				// Refused: nothing was created.
				delete(a.st.Resources, s.Name)
				if serr := a.save(s.Name, "create endpoint"); serr != nil {
					return serr
				}
			}
			return &StepError{s.Name, "create endpoint", err}
		}
		a.logf("✓ Created endpoint %s (%s, %s)", s.Name, ep.ID, strings.ToLower(r.Type))
	}
	// An adopted endpoint's env and config are what its create sent,
	// which may predate this run: the hashes say so, and step 4 patches.
	envHash := EnvHash(env)
	if ep.Env != nil {
		envHash = EnvHash(ep.Env)
	}
	a.st.Resources[s.Name] = &ResourceState{
		EndpointID: ep.ID, Name: req.Name, Type: r.Type, ResourceType: r.ResourceType,
		Image: b.Ref, ImageDigest: b.Digest, ConfigHash: r.ConfigHash, Config: jsonConfig(r.Config),
		EnvHash: envHash, RequestURLs: ep.RequestURLs,
	}
	return a.save(s.Name, "create endpoint")
}

// update sends the PATCH that s needs once every id is known.
func (a *applier) update(ctx context.Context, s *Step, w Wiring) error {
	r := s.Resource
	cur := a.st.Resources[s.Name]
	if cur == nil || cur.EndpointID == "" {
		return nil // not deployed (an earlier step failed)
	}
	var keys []string
	u := &runpod.UpdateEndpoint{}
	if s.Action == Update {
		keys = slices.DeleteFunc(slices.Clone(s.Changes), func(k string) bool { return k == "image" || k == "env" })
		u = r.Update(keys)
		if slices.Contains(s.Changes, "image") {
			u.Image = &a.built[s.Name].Ref
		}
	}
	env := r.Env(w)
	if EnvHash(env) != cur.EnvHash {
		u.Env = env
	}
	if u.Empty() && cur.ConfigHash == r.ConfigHash {
		return nil
	}
	next := *cur
	if !u.Empty() {
		ep, err := a.opts.Client.UpdateEndpoint(ctx, cur.EndpointID, u)
		if runpod.NotFound(err) {
			// Deleted behind the state's back: the state stops claiming
			// it, so that the next deploy creates it again.
			delete(a.st.Resources, s.Name)
			if serr := a.save(s.Name, "update endpoint "+cur.EndpointID); serr != nil {
				return serr
			}
			return &StepError{s.Name, "update endpoint " + cur.EndpointID, fmt.Errorf("%w; it is gone from RunPod: deploy again to create it", err)}
		}
		if err != nil {
			return &StepError{s.Name, "update endpoint " + cur.EndpointID, err}
		}
		next.RequestURLs = ep.RequestURLs
		var what []string
		what = append(what, keys...)
		if u.Image != nil {
			what = append(what, "image")
		}
		if u.Env != nil {
			what = append(what, "env")
		}
		slices.Sort(what)
		a.logf("✓ Updated endpoint %s (%s): %s", s.Name, cur.EndpointID, strings.Join(what, ", "))
	}
	next.ConfigHash, next.Config, next.ResourceType = r.ConfigHash, jsonConfig(r.Config), r.ResourceType
	if u.Image != nil {
		next.Image, next.ImageDigest = a.built[s.Name].Ref, a.built[s.Name].Digest
	}
	if u.Env != nil {
		next.EnvHash = EnvHash(env)
	}
	a.st.Resources[s.Name] = &next
	return a.save(s.Name, "update endpoint")
}

// jsonConfig is a config as the state file keeps it (plain JSON values).
func jsonConfig(c map[string]any) map[string]any {
	data, _ := json.Marshal(c)
	var out map[string]any
	json.Unmarshal(data, &out)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// waitHealthy waits for the endpoints with WorkersMin ≥ 1: load balancers
// until their health URL answers 200 (204 is starting), queues until their
// health reports a ready worker.
func (a *applier) waitHealthy(ctx context.Context, plan *Plan) error {
	ctx, cancel := context.WithTimeout(ctx, a.opts.Wait)
	defer cancel()
	every := a.opts.PollInterval
	if every == 0 {
		every = time.Second
	}
	for _, s := range plan.Steps {
		if s.Resource == nil || s.Resource.WorkersMin() < 1 {
			continue
		}
		rs := a.st.Resources[s.Name]
		if rs == nil || rs.RequestURLs.Health == "" {
			continue
		}
		start := time.Now()
		last := "no answer yet"
		for {
			ok, why := a.healthy(ctx, s.Resource.Type, rs.RequestURLs.Health)
			if ok {
				a.logf("✓ %s is healthy (%s)", s.Name, time.Since(start).Round(100*time.Millisecond))
				break
			}
			last = why
			select {
			case <-ctx.Done():
				return &StepError{s.Name, "health wait", fmt.Errorf("not healthy after %s: %s", a.opts.Wait, last)}
			case <-time.After(every):
			}
		}
	}
	return nil
}

func (a *applier) healthy(ctx context.Context, typ, u string) (bool, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err.Error()
	}
	if a.sendKey(u) {
		req.Header.Set("Authorization", "Bearer "+a.opts.APIKey)
	}
	resp, err := runpod.KeyOnHostOnly(a.opts.HTTP).Do(req)
	if err != nil {
		return false, "GET " + u + ": " + err.Error()
	}
	defer resp.Body.Close()
	if typ == runpod.TypeLoadBalancer {
		switch resp.StatusCode {
		case http.StatusOK:
			return true, ""
		case http.StatusNoContent:
			return false, "GET " + u + ": 204 (starting)"
		}
		return false, fmt.Sprintf("GET %s: %d", u, resp.StatusCode)
	}
	var h runpod.QueueHealth
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&h) != nil {
		return false, fmt.Sprintf("GET %s: %d", u, resp.StatusCode)
	}
	if h.Workers.Ready >= 1 {
		return true, ""
	}
	return false, fmt.Sprintf("GET %s: no ready worker (%d initializing, %d unhealthy)", u, h.Workers.Initializing, h.Workers.Unhealthy)
}

// sendKey applies SPEC 14's rule to health URLs: the key goes to https
// URLs on runpod.ai and to the host of the API base URL configured
// explicitly (RUNPOD_API_URL), nowhere else.
func (a *applier) sendKey(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if u.Scheme == "https" && (h == "runpod.ai" || strings.HasSuffix(h, ".runpod.ai")) {
		return true
	}
	if a.opts.Client == nil || a.opts.Client.BaseURL == runpod.DefaultBaseURL {
		return false
	}
	base, err := url.Parse(a.opts.Client.BaseURL)
	return err == nil && base.Scheme == u.Scheme && base.Host == u.Host
}
