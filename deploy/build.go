package deploy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/codegen"
	"github.com/flash-lsp/flash-lsp/deploy/image"
)

// BuildDir holds the deploy handlers' sources and binaries while deploy
// runs, relative to the module root; it is removed afterwards.
const BuildDir = ".flash/.build/deploy"

// Built is one resource's image.
type Built struct {
	Name, Dir string
	Image     v1.Image
	Digest    string // sha256:...
	Ref       string // <registry>/<dir>:sha-<12 hex>
}

// BuildOptions adjust BuildImages.
type BuildOptions struct {
	Target codegen.Target
	// Registry is where images are pushed (their references name it).
	Registry string
	// Base is the base image (nil: scratch plus the CA bundle).
	Base v1.Image
	// CABundle overrides the CA bundle of the scratch base.
	CABundle string
	// Created is SOURCE_DATE_EPOCH (zero: the Unix epoch).
	Created time.Time
	// Progress is called after each handler compiles.
	Progress func(done, total int)
}

// BuildImages compiles a deploy handler per resource and builds its image.
//
// A deployed handler differs from build's in what it embeds: the manifest
// without any resource's config (and without generated_at), and its own
// resource as a literal holding only what the runtime reads (Name,
// Mothership). Config reaches RunPod through the API, not the image, so a
// config edit (a WorkersMax) leaves every image, and its digest, unchanged:
// the plan says `update: workersMax`, not `image` everywhere. The Go build
// id, a hash of the inputs' files rather than of what was linked, is left
// empty for the same reason.
func BuildImages(ctx context.Context, p *codegen.Project, res *codegen.Result, opts BuildOptions) (map[string]*Built, error) {
	if opts.Target.GOOS == "" {
		opts.Target = codegen.DefaultTarget
	}
	manifest, err := imageManifest(res.Manifest)
	if err != nil {
		return nil, err
	}
	// The sources and binaries live in .flash/.build, flash-lsp's own, under
	// the writers' lock and after its symlink checks (SPEC 14).
	lk, err := codegen.AcquireLock(res.Root)
	if err != nil {
		return nil, err
	}
	defer lk.Unlock()
	if err := codegen.CheckBuildDir(res.Root, BuildDir); err != nil {
		return nil, err
	}
	srcRoot := filepath.Join(res.Root, filepath.FromSlash(BuildDir))
	if err := os.RemoveAll(srcRoot); err != nil {
		return nil, fmt.Errorf("cleaning %s: %w", BuildDir, err)
	}
	defer os.RemoveAll(srcRoot)

	type job struct {
		r   *model.Resource
		fns []*model.Function
	}
	var jobs []job
	for _, r := range resourcesOf(p, res) {
		jobs = append(jobs, job{r, functionsOf(p, r)})
	}
	out := make([]*Built, len(jobs))
	errs := make([]error, len(jobs))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, 2)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for i, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			b, err := buildOne(ctx, res.Root, srcRoot, p.Module, j.r, j.fns, manifest, p.Docs, opts)
			if err != nil {
				errs[i] = fmt.Errorf("resource %s: %w", j.r.Name, err)
				cancel()
				return
			}
			out[i] = b
			if opts.Progress != nil {
				mu.Lock()
				done++
				opts.Progress(done, len(jobs))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	built := make(map[string]*Built, len(out))
	for i, b := range out {
		if b == nil {
			return nil, errs[i]
		}
		built[b.Name] = b
	}
	return built, nil
}

func buildOne(ctx context.Context, root, srcRoot, module string, r *model.Resource, fns []*model.Function, manifest []byte, docs model.Docs, opts BuildOptions) (*Built, error) {
	doc, err := deployOpenAPI(r, fns, docs)
	if err != nil {
		return nil, err
	}
	src, err := codegen.Handler(deployResource(r), fns, manifest, doc)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(srcRoot, r.Dir())
	if err := codegen.WriteFileAtomic(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "handler")
	pkg := "./" + path.Join(BuildDir, r.Dir())
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-buildid=", "-o", bin, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), opts.Target.Env()...)
	var msg bytes.Buffer
	cmd.Stdout, cmd.Stderr = &msg, &msg
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("compiling the handler: %w\n%s", err, strings.TrimSpace(msg.String()))
	}
	img, err := image.Build(image.Spec{Binary: bin, Manifest: manifest, Base: opts.Base, CABundle: opts.CABundle,
		Created: opts.Created, Module: module})
	if err != nil {
		return nil, err
	}
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("image digest: %w", err)
	}
	b := &Built{Name: r.Name, Dir: r.Dir(), Image: img, Digest: d.String()}
	if opts.Registry != "" {
		b.Ref = image.Reference(opts.Registry, r.Dir(), d)
	}
	return b, nil
}

// deployOpenAPI is the OpenAPI document a deployed load balancer serves.
// Its info.version is the start of a hash of the document rather than of the
// config_hash (as in .flash/openapi), so that an image changes when the API
// does and not when only a scaling setting does: that is a PATCH, not a new
// image.
func deployOpenAPI(r *model.Resource, fns []*model.Function, docs model.Docs) ([]byte, error) {
	if !r.LoadBalanced() {
		return nil, nil
	}
	doc, err := codegen.OpenAPIDocument(r, fns, docs, "")
	if err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	sum := sha256.Sum256(doc)
	return codegen.OpenAPIDocument(r, fns, docs, hex.EncodeToString(sum[:6]))
}

// deployResource is r as a deployed handler writes it: a literal of its
// type with only Name and Mothership (an unexported variable name makes the
// generator write a literal instead of naming the user's variable).
func deployResource(r *model.Resource) *model.Resource {
	c := *r
	c.Var = "deployed"
	c.Config = nil
	for _, s := range r.Config {
		if s.Field == "Name" || s.Field == "Mothership" && s.Value == true {
			c.Config = append(c.Config, s)
		}
	}
	return &c
}

// imageManifest is the manifest images carry: no generated_at, no
// config_hash, no config keys.
func imageManifest(m *codegen.Manifest) ([]byte, error) {
	c := *m
	c.GeneratedAt = ""
	c.Resources = make(map[string]*codegen.ManifestResource, len(m.Resources))
	for name, mr := range m.Resources {
		r := *mr
		r.ConfigHash = ""
		r.Config = nil
		c.Resources[name] = &r
	}
	return c.Marshal()
}

// resourcesOf returns the resources that have a handler, sorted by name.
func resourcesOf(p *codegen.Project, res *codegen.Result) []*model.Resource {
	var out []*model.Resource
	seen := map[string]bool{}
	for _, r := range p.Resources {
		if r == nil || r.Name == "" || seen[r.Ref()] {
			continue
		}
		if _, ok := res.Handlers[r.Dir()]; !ok {
			continue
		}
		seen[r.Ref()] = true
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// functionsOf returns the valid functions of r in the manifest's order.
func functionsOf(p *codegen.Project, r *model.Resource) []*model.Function {
	var fns []*model.Function
	for _, f := range p.Functions {
		if f != nil && f.Valid && f.Resource != nil && f.Resource.Ref() == r.Ref() {
			fns = append(fns, f)
		}
	}
	sort.SliceStable(fns, func(i, j int) bool {
		a, b := fns[i], fns[j]
		if a.Pos.Filename != b.Pos.Filename {
			return rel(p.Root, a.Pos.Filename) < rel(p.Root, b.Pos.Filename)
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		return a.Qualified < b.Qualified
	})
	return fns
}

func rel(root, file string) string {
	if r, err := filepath.Rel(root, file); err == nil {
		return filepath.ToSlash(r)
	}
	return file
}
