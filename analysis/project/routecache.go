package project

import "sync"

// routeRegexps memoizes pathRegexp across calls of ModuleRules. The
// language server reruns the whole-module rules after every edit, and
// compiling the route templates of a 2,000-function module with gorilla/mux
// each time costs tens of milliseconds, most of an edit's budget. A
// template's regexp never changes, so entries never go stale; the map is
// emptied when it grows past maxRouteRegexps (templates typed and
// abandoned in an editor).
var routeRegexps struct {
	sync.Mutex
	m map[string]string
}

const maxRouteRegexps = 1 << 16

// cachedPathRegexp is pathRegexp, memoized; "" for a template mux rejects.
func cachedPathRegexp(path string) string {
	routeRegexps.Lock()
	re, ok := routeRegexps.m[path]
	routeRegexps.Unlock()
	if ok {
		return re
	}
	re, err := pathRegexp(path)
	if err != nil {
		re = ""
	}
	routeRegexps.Lock()
	if routeRegexps.m == nil || len(routeRegexps.m) >= maxRouteRegexps {
		routeRegexps.m = make(map[string]string)
	}
	routeRegexps.m[path] = re
	routeRegexps.Unlock()
	return re
}
