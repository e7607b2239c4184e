package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// A RemoteFunc describes one remote function to its callers: the
// generated typed clients declare one per function and pass it to
// [Caller.Call].
type RemoteFunc struct {
	// Resource is the name of the resource serving the function
	// ("test-api"); LoadBalanced says whether it serves HTTP routes.
	Resource     string
	LoadBalanced bool
	// Name is the function's qualified name
	// ("example.com/app/items.GetItem"), as queue jobs and /execute name it.
	Name string
	// Method and Path are the route of a load-balanced function.
	Method, Path string
	// Params are the parameter names (context excluded), in order: the
	// args of Call bind to them one by one.
	Params []string
}

// A Caller calls remote functions wherever they are served. Its zero
// value is ready to use; the generated typed clients embed one. Each call
// resolves the function's endpoint, in order:
//
//  1. BaseURL, when set;
//  2. this process, when it serves the function's resource (a handler
//     serves its own resource, `flash-lsp run --all` every resource): the
//     call then goes straight to the resource's handler, in memory, through
//     the same routing and binding as over HTTP;
//  3. FLASH_ENDPOINT_URL_<SUFFIX>, a base URL;
//  4. FLASH_ENDPOINT_ID_<SUFFIX>, an endpoint id: [EndpointURL] for a
//     load-balanced resource, [QueueURL] for a queue (an id that is not
//     one, see [CheckEndpointID], is an error and nothing is sent);
//  5. the "endpoints" map of the mothership's GET /manifest, when
//     FLASH_MOTHERSHIP_URL (a base URL) or FLASH_MOTHERSHIP_ID (an
//     endpoint id) is set. The manifest is cached and fetched once for
//     concurrent callers; fetching it is retried a few times on network
//     errors and 5xx answers, and while it fails the last good manifest is
//     served for up to ten minutes.
//
// SUFFIX is the resource name with every character outside [A-Za-z0-9_-]
// replaced by '_', upper-cased, '-' replaced by '_'
// (FLASH_ENDPOINT_URL_TEST_API).
//
// Load-balanced functions are called on their route ([Client.Call]); queue
// functions through /runsync ([Client.RunSync]). A non-2xx answer is a
// *[HTTPError] with the status and the server's message, a failed queue
// function a *[RemoteError], a job that did not complete a *[JobError].
type Caller struct {
	// BaseURL, when set, is where every call goes.
	BaseURL string

	// APIKey is sent as "Authorization: Bearer APIKEY"; empty means
	// $RUNPOD_API_KEY. It goes only to RunPod's https URLs and to the base
	// URLs this process configured (BaseURL, FLASH_ENDPOINT_URL_*,
	// FLASH_MOTHERSHIP_URL): never to another URL of a manifest, nor over
	// a redirect to another host.
	APIKey string

	// HTTPClient sends requests; nil means http.DefaultClient.
	HTTPClient *http.Client

	// Timeout bounds each HTTP request; zero means 30 seconds, a negative
	// value no limit beyond the context's.
	Timeout time.Duration

	// PollInterval is how often a queue job still in progress is polled;
	// zero means one second.
	PollInterval time.Duration

	// Resolver finds endpoints; nil means DefaultResolver.
	Resolver *Resolver
}

// Call calls fn with args (one per fn.Params, in order) and decodes its
// result into result, which is nil for a function without one.
func (c *Caller) Call(ctx context.Context, fn *RemoteFunc, args []any, result any) error {
	if fn == nil {
		return errors.New("runtime: Call of a nil RemoteFunc")
	}
	cl, err := c.client(ctx, fn, args)
	if err != nil {
		return err
	}
	if fn.LoadBalanced {
		return cl.Call(ctx, fn.Method, fn.Path, routeArgs(fn, args), result)
	}
	return cl.RunSync(ctx, fn.Name, nil, jobKwargs(fn, args), result)
}

// client resolves where fn is served, as a Client of that endpoint.
func (c *Caller) client(ctx context.Context, fn *RemoteFunc, args []any) (*Client, error) {
	if fn == nil {
		return nil, errors.New("runtime: call of a nil RemoteFunc")
	}
	if len(args) != len(fn.Params) {
		return nil, fmt.Errorf("calling %s: %d arguments for %d parameters", fn.Name, len(args), len(fn.Params))
	}
	cl := &Client{
		BaseURL:      c.BaseURL,
		APIKey:       c.APIKey,
		HTTPClient:   c.HTTPClient,
		Timeout:      c.Timeout,
		PollInterval: c.PollInterval,
	}
	if cl.BaseURL == "" {
		r := c.Resolver
		if r == nil {
			r = DefaultResolver
		}
		if h := r.Local(fn.Resource); h != nil {
			cl.BaseURL = localBaseURL
			cl.HTTPClient = &http.Client{Transport: inProcess{h}}
			cl.keyOnlyRunPod = true // the key stays in this process
		} else {
			u, keyOK, err := r.resolve(ctx, fn.Resource, fn.LoadBalanced)
			if err != nil {
				return nil, fmt.Errorf("calling %s: %w", fn.Name, err)
			}
			cl.BaseURL, cl.keyOnlyRunPod = u, !keyOK
		}
	}
	return cl, nil
}

// routeArgs are the arguments of a route call by parameter name.
func routeArgs(fn *RemoteFunc, args []any) map[string]any {
	m := make(map[string]any, len(args))
	for i, name := range fn.Params {
		m[name] = args[i]
	}
	return m
}

// jobKwargs are the arguments of a queue job: by name, nil pointers left
// out, as a JSON body does.
func jobKwargs(fn *RemoteFunc, args []any) map[string]any {
	kwargs := make(map[string]any, len(args))
	for i, name := range fn.Params {
		if !isNil(args[i]) {
			kwargs[name] = args[i]
		}
	}
	return kwargs
}
