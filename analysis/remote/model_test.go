package remote_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// checkCleanModel checks the *model.Package the analyzer returns for the
// clean case (TestAnalyzer runs it): resources with their settings,
// functions with their routes and parameter bindings.
func checkCleanModel(t *testing.T, pkg *model.Package) {
	t.Helper()
	got := dump(pkg)
	want := `package clean clean dir=clean
resource API LoadBalancer "test-api" lb=true live=false mothership=false at clean.go:15:5 name at clean.go:15:20
  Name=test-api [name] WorkersMin=0 [workersMin] WorkersMax=3 [workersMax] ScalerType=REQUEST_COUNT [scalerType] Env=map[MODE:prod] [env] GPUs=[A100 H100] [gpuIds]
resource Jobs *LiveServerless "jobs" lb=false live=true mothership=false at clean.go:17:5 name at clean.go:17:42
  Name=jobs [name] ScalerType=QUEUE_DELAY [scalerType]
resource Items CPULiveLoadBalancer "items" lb=true live=true mothership=true at clean.go:21:5 name at clean.go:21:47
  Name=items [name] Mothership=true [is_mothership] IdleTimeout=60 [idleTimeout]
func clean.ProcessData at clean.go:45:6 -> clean.API POST /api/process valid=true ctx=true result=clean.Item error=true
  directive clean.go:44:1 resource clean.go:44:16-19 method clean.go:44:20-31 path clean.go:44:32-49
  x int in=body bind=0 optional=false slice=false
  y int in=body bind=0 optional=false slice=false
func clean.GetItem at clean.go:50:6 -> clean.API GET /items/{id} valid=true ctx=false result=*clean.Item error=true
  directive clean.go:49:1 resource clean.go:49:16-19 method clean.go:49:20-30 path clean.go:49:31-47
  id string in=path bind=1 optional=false slice=false
  verbose bool in=query bind=2 optional=false slice=false
  limit *int in=query bind=3 optional=true slice=false
  tags []string in=query bind=1 optional=false slice=true
  extra *[]int in=query bind=3 optional=true slice=true
  addr netip.Addr in=query bind=6 optional=false slice=false
func clean.Run at clean.go:57:6 -> clean.Jobs   valid=true ctx=true result= error=true
  directive clean.go:56:1 resource clean.go:56:16-20
  item clean.Item in=arg bind=0 optional=false slice=false
  note *string in=arg bind=0 optional=true slice=false
func clean.Delete at clean.go:62:6 -> clean.Items DELETE /items/{kind}/{n:[0-9]+} valid=true ctx=false result= error=true
  directive clean.go:61:1 resource clean.go:61:16-21 method clean.go:61:22-35 path clean.go:61:36-65
  kind clean.Kind in=path bind=6 optional=false slice=false
  n uint in=path bind=4 optional=false slice=false
func clean.Nothing at clean.go:67:6 -> clean.Jobs   valid=true ctx=false result= error=false
  directive clean.go:66:1 resource clean.go:66:16-20
func clean.Anything at clean.go:76:6 -> clean.Items PUT /any valid=true ctx=false result=any error=true
  directive clean.go:75:1 resource clean.go:75:16-21 method clean.go:75:22-32 path clean.go:75:33-42
  v any in=body bind=0 optional=false slice=false
  err error in=body bind=0 optional=false slice=false
func clean.Train at imported.go:14:6 -> res.GPU   valid=true ctx=false result=float64 error=true
  directive imported.go:13:1 resource imported.go:13:16-23
  steps int in=arg bind=0 optional=false slice=false
func clean.Page at imported.go:19:6 -> res.Web GET /web/{page} valid=true ctx=false result=string error=true
  directive imported.go:18:1 resource imported.go:18:16-25 method imported.go:18:26-36 path imported.go:18:37-53
  page int in=path bind=3 optional=false slice=false
`
	if got != want {
		t.Errorf("model mismatch\n--- got ---\n%s\n--- want ---\n%s", got, want)
	}

	// Resources imported through facts carry their settings and positions.
	for _, fn := range pkg.Functions {
		r := fn.Resource
		switch fn.Name {
		case "Train":
			if r.Type != "Serverless" || r.Name != "gpu-worker" || r.LoadBalanced() || !r.Literal ||
				len(r.Config) != 3 || r.Config[2].Key != "gpuIds" || fmt.Sprint(r.Config[2].Value) != "[A100]" ||
				filepath.Base(r.Pos.Filename) != "res.go" || r.Pos.Line != 7 {
				t.Errorf("Train: imported resource %+v", *r)
			}
		case "Page":
			if r.Type != "CPULoadBalancer" || !r.Pointer || r.Name != "web" || !r.LoadBalanced() || r.Ref() != "res.Web" {
				t.Errorf("Page: imported resource %+v", *r)
			}
		}
	}
}

func dump(pkg *model.Package) string {
	var b strings.Builder
	short := func(filename string, line, col int) string {
		return fmt.Sprintf("%s:%d:%d", filepath.Base(filename), line, col)
	}
	fmt.Fprintf(&b, "package %s %s dir=%s\n", pkg.Path, pkg.Name, filepath.Base(pkg.Dir))
	for _, r := range pkg.Resources {
		ptr := ""
		if r.Pointer {
			ptr = "*"
		}
		fmt.Fprintf(&b, "resource %s %s%s %q lb=%v live=%v mothership=%v at %s name at %s\n",
			r.Var, ptr, r.Type, r.Name, r.LoadBalanced(), r.Live(), r.Mothership(),
			short(r.Pos.Filename, r.Pos.Line, r.Pos.Column), short(r.NamePos.Filename, r.NamePos.Line, r.NamePos.Column))
		var settings []string
		for _, s := range r.Config {
			settings = append(settings, fmt.Sprintf("%s=%v [%s]", s.Field, s.Value, s.Key))
		}
		fmt.Fprintf(&b, "  %s\n", strings.Join(settings, " "))
	}
	for _, fn := range pkg.Functions {
		ref := ""
		if fn.Resource != nil {
			ref = fn.Resource.Ref()
		}
		fmt.Fprintf(&b, "func %s at %s -> %s %s %s valid=%v ctx=%v result=%s error=%v\n",
			fn.Qualified, short(fn.Pos.Filename, fn.Pos.Line, fn.Pos.Column), ref, fn.Method, fn.Path,
			fn.Valid, fn.Context, fn.ResultString, fn.Error)
		fmt.Fprintf(&b, "  directive %s resource %s-%d", short(fn.DirectivePos.Filename, fn.DirectivePos.Line, fn.DirectivePos.Column),
			short(fn.ResourcePos.Filename, fn.ResourcePos.Line, fn.ResourcePos.Column), fn.ResourceEnd.Column)
		if fn.MethodPos.IsValid() {
			fmt.Fprintf(&b, " method %s-%d", short(fn.MethodPos.Filename, fn.MethodPos.Line, fn.MethodPos.Column), fn.MethodEnd.Column)
		}
		if fn.PathPos.IsValid() {
			fmt.Fprintf(&b, " path %s-%d", short(fn.PathPos.Filename, fn.PathPos.Line, fn.PathPos.Column), fn.PathEnd.Column)
		}
		b.WriteString("\n")
		for _, p := range fn.Params {
			fmt.Fprintf(&b, "  %s %s in=%s bind=%d optional=%v slice=%v\n", p.Name, p.TypeString, p.In, p.Bind, p.Optional, p.Slice)
		}
	}
	return b.String()
}

// checkStreamModel checks what the model says about streaming functions:
// Stream set, Result the item type, Error set for iter.Seq2 only.
func checkStreamModel(t *testing.T, pkg *model.Package) {
	t.Helper()
	want := map[string]string{
		"Generate": "stream=true result=stream.Token error=true valid=true",
		"Count":    "stream=true result=int error=false valid=true",
		"Frames":   "stream=true result=stream.Token error=true valid=true",
	}
	seen := 0
	for _, fn := range pkg.Functions {
		w, ok := want[fn.Name]
		if !ok {
			if fn.Valid {
				t.Errorf("%s: valid, want a signature error", fn.Name)
			}
			continue
		}
		seen++
		got := fmt.Sprintf("stream=%v result=%s error=%v valid=%v", fn.Stream, fn.ResultString, fn.Error, fn.Valid)
		if got != w {
			t.Errorf("%s: %s, want %s", fn.Name, got, w)
		}
	}
	if seen != len(want) {
		t.Errorf("saw %d of the %d streaming functions", seen, len(want))
	}
}
