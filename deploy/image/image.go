// Package image builds and pushes the container image of one resource
// without a Docker daemon (SPEC 17.1): a base (by default an empty scratch
// base plus the build machine's CA bundle) and one layer holding the handler
// binary at /flash/handler with flash_manifest.json beside it. Every byte is
// fixed by the inputs and SOURCE_DATE_EPOCH, so the same sources give the
// same digest and an unchanged resource pushes nothing new.
package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Paths inside the image.
const (
	HandlerPath  = "/flash/handler"
	ManifestPath = "/flash/flash_manifest.json"
	CABundlePath = "/etc/ssl/certs/ca-certificates.crt"
)

// SourceLabel names the repository the image was built from.
const SourceLabel = "org.opencontainers.image.source"

// DefaultCABundle is where Debian-like build machines keep their CA bundle.
const DefaultCABundle = "/etc/ssl/certs/ca-certificates.crt"

// Spec describes one resource's image.
type Spec struct {
	// Binary is the compiled handler (linux/amd64).
	Binary string
	// Manifest is flash_manifest.json's content.
	Manifest []byte
	// Base is the base image; nil means scratch plus CABundle.
	Base v1.Image
	// CABundle is the CA bundle put into a scratch base (DefaultCABundle
	// when empty).
	CABundle string
	// Created is the image's and the files' time (SOURCE_DATE_EPOCH; the
	// zero time means the Unix epoch).
	Created time.Time
	// Module is the Go module path; a URL-like one (host.tld/...) becomes
	// the source label.
	Module string
}

// Build assembles the image.
func Build(s Spec) (v1.Image, error) {
	created := s.Created
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	created = created.UTC()
	bin, err := os.ReadFile(s.Binary)
	if err != nil {
		return nil, fmt.Errorf("reading the handler binary: %w", err)
	}
	img := s.Base
	if img == nil {
		// empty.Image carries Docker media types: OCI is asked for.
		img = mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
		ca := s.CABundle
		if ca == "" {
			ca = DefaultCABundle
		}
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("reading the CA bundle for the scratch base: %w", err)
		}
		layer, err := layer([]file{{name: CABundlePath, mode: 0o444, data: pem}}, created)
		if err != nil {
			return nil, err
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: layer, MediaType: types.OCILayer,
			History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "flash-lsp deploy: CA certificates"}}); err != nil {
			return nil, fmt.Errorf("adding the CA bundle: %w", err)
		}
	}
	app, err := layer([]file{
		{name: HandlerPath, mode: 0o555, data: bin},
		{name: ManifestPath, mode: 0o444, data: s.Manifest},
	}, created)
	if err != nil {
		return nil, err
	}
	if img, err = mutate.Append(img, mutate.Addendum{Layer: app, MediaType: types.OCILayer,
		History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "flash-lsp deploy: handler"}}); err != nil {
		return nil, fmt.Errorf("adding the handler: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: created}
	cf.Config.Entrypoint = []string{HandlerPath}
	cf.Config.Cmd = nil
	cf.Config.Env = setEnv(cf.Config.Env, "FLASH_MANIFEST_PATH", ManifestPath)
	if src := sourceURL(s.Module); src != "" {
		if cf.Config.Labels == nil {
			cf.Config.Labels = map[string]string{}
		}
		cf.Config.Labels[SourceLabel] = src
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, fmt.Errorf("writing the image config: %w", err)
	}
	return img, nil
}

// setEnv sets key in a KEY=VALUE list, keeping the order of the others.
func setEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

// sourceURL returns https://<module> for a module path whose first element
// looks like a host name (github.com/org/repo), "" otherwise.
func sourceURL(module string) string {
	host, _, _ := strings.Cut(module, "/")
	if !strings.Contains(host, ".") || !strings.Contains(module, "/") || strings.HasSuffix(host, ".") {
		return ""
	}
	return "https://" + module
}

type file struct {
	name string // absolute path in the image
	mode int64
	data []byte
}

// layer returns an uncompressed tar of files (with their parent
// directories) as an OCI layer: fixed modes and times, uid/gid 0.
func layer(files []file, mtime time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	seen := map[string]bool{}
	for _, f := range files {
		rel := strings.TrimPrefix(f.name, "/")
		var dirs []string
		for d := path.Dir(rel); d != "." && !seen[d]; d = path.Dir(d) {
			seen[d] = true
			dirs = append([]string{d}, dirs...)
		}
		for _, d := range dirs {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
				return nil, fmt.Errorf("writing a layer: %w", err)
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: f.mode, Size: int64(len(f.data)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return nil, fmt.Errorf("writing a layer: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("writing a layer: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("writing a layer: %w", err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("making a layer: %w", err)
	}
	return l, nil
}

// Reference returns where a resource's image is pushed:
// <registry>/<dir>:sha-<first 12 hex of the digest>.
func Reference(registry, dir string, digest v1.Hash) string {
	return strings.TrimRight(registry, "/") + "/" + strings.ToLower(dir) + ":sha-" + digest.Hex[:12]
}

// Pusher pushes images to a registry.
type Pusher struct {
	// Options adjust every remote call; the default authenticates with the
	// Docker config keychain (~/.docker/config.json, DOCKER_CONFIG).
	Options []remote.Option
}

func (p *Pusher) options(ctx context.Context) []remote.Option {
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	return append(opts, p.Options...)
}

// Push uploads img to ref unless the registry already has that digest
// there: an unchanged image costs one HEAD request. It reports whether
// anything was pushed.
func (p *Pusher) Push(ctx context.Context, img v1.Image, ref string) (pushed bool, err error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return false, fmt.Errorf("image reference %q: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return false, fmt.Errorf("image digest: %w", err)
	}
	if desc, err := remote.Head(r, p.options(ctx)...); err == nil && desc.Digest == digest {
		return false, nil
	}
	if err := remote.Write(r, img, p.options(ctx)...); err != nil {
		return false, fmt.Errorf("pushing %s: %w", ref, err)
	}
	return true, nil
}

// Pull fetches an image (a --base) for linux/amd64.
func (p *Pusher) Pull(ctx context.Context, ref string) (v1.Image, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return nil, fmt.Errorf("image reference %q: %w", ref, err)
	}
	opts := append(p.options(ctx), remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}))
	img, err := remote.Image(r, opts...)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	return img, nil
}

// ErrNoRegistry is returned when no registry was named.
var ErrNoRegistry = errors.New("no registry: pass --registry or set FLASH_REGISTRY")
