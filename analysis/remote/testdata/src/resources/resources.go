// Package resources holds directives that name no usable resource and
// resources with a bad configuration.
package resources

import (
	_ "res"

	"github.com/flash-lsp/flash-lsp/runtime"
)

var API = runtime.LoadBalancer{Name: "api"} // want API:`resource LoadBalancer "api"`

var Same = runtime.LoadBalancer{Name: "api"} // want Same:`resource LoadBalancer "api"`

// Two motherships and a duplicate name are whole-module rules: nothing here.

var Home = runtime.LoadBalancer{Name: "home", Mothership: true} // want Home:`resource LoadBalancer "home"`

var Portal = runtime.CPULiveLoadBalancer{Name: "portal", Mothership: true} // want Portal:`resource CPULiveLoadBalancer "portal"`

var NoName = runtime.Serverless{WorkersMax: 1} // want `resource NoName has no Name: Name is required` NoName:`resource Serverless ""`

var Empty = runtime.Serverless{Name: ""} // want `resource Empty: Name must not be empty` Empty:`resource Serverless ""`

var name = "dynamic"

var Dynamic = runtime.Serverless{Name: name} // want `resource Dynamic: Name must be a constant string` Dynamic:`resource Serverless ""`

var Counts = runtime.Serverless{ // want Counts:`resource Serverless "counts"`
	Name:        "counts",
	GPUCount:    -1, // want `resource Counts: GPUCount must not be negative \(-1\)`
	WorkersMin:  5,  // want `resource Counts: WorkersMin 5 exceeds WorkersMax 2`
	WorkersMax:  2,
	IdleTimeout: -5, // want `resource Counts: IdleTimeout must not be negative`
	ScalerValue: -1, // want `resource Counts: ScalerValue must not be negative`
}

var Negative = runtime.Serverless{Name: "neg", WorkersMax: -1} // want `resource Negative: WorkersMax must not be negative` Negative:`resource Serverless "neg"`

var Scaler = runtime.Serverless{Name: "s", ScalerType: "FAST"} // want `resource Scaler: ScalerType "FAST" is not QUEUE_DELAY or REQUEST_COUNT` Scaler:`resource Serverless "s"`

var LBQueue = runtime.LoadBalancer{Name: "lbq", ScalerType: "QUEUE_DELAY"} // want `resource LBQueue: ScalerType QUEUE_DELAY does not apply to load-balanced LoadBalancer: use REQUEST_COUNT` LBQueue:`resource LoadBalancer "lbq"`

var Mother = runtime.Serverless{Name: "m", Mothership: true} // want `resource Mother: only a load-balanced resource can be the Mothership` Mother:`resource Serverless "m"`

func workers() int { return 2 }

var NonConst = runtime.Serverless{Name: "nc", WorkersMax: workers(), GPUs: []string{name}} // want `resource NonConst: WorkersMax must be a constant` `resource NonConst: GPUs must be a constant` NonConst:`resource Serverless "nc"`

var NotLiteral = runtime.Serverless(runtime.Config{Name: "x"}) // want NotLiteral:`resource Serverless "" \(not a literal\)`

var Declared runtime.CPUServerless // want Declared:`resource CPUServerless "" \(not a literal\)`

var Positional = runtime.CPUServerless{"positional", "image", nil, 0, nil, 0, 3, 0, "", 0, nil, false, 0, 0, "", nil, nil, ""} // want Positional:`resource CPUServerless "positional"`

var Plain = 3

const Konst = "x"

// T is a type.
type T struct{}

// want +2 `unknown resource APl for UsesTypo: did you mean API\?`
//
//flash:remote APl
func UsesTypo() {}

// want +2 `unknown resource res.GPX for UsesImportTypo: did you mean res.GPU\?`
//
//flash:remote res.GPX
func UsesImportTypo() {}

// want +2 `unknown resource missing.Web for UsesUnimported: did you mean res.Web\?`
//
//flash:remote missing.Web method=GET path=/x
func UsesUnimported() {}

// want +2 `unknown resource res.private for UsesUnexported: did you mean res.GPU\?`
//
//flash:remote res.private
func UsesUnexported() {}

// want +2 `res.Count has type int, not one of the runtime resource types`
//
//flash:remote res.Count
func UsesImportedInt() {}

// want +2 `resource res.Computed is not initialised with a composite literal`
//
//flash:remote res.Computed method=GET path=/computed
func UsesComputed() {}

// want +2 `Plain has type int, not one of the runtime resource types`
//
//flash:remote Plain
func UsesPlain() {}

// want +2 `Konst is a constant, not a resource variable`
//
//flash:remote Konst
func UsesConst() {}

// want +2 `T is a type, not a resource variable`
//
//flash:remote T
func UsesType() {}

// want +2 `workers is a function, not a resource variable`
//
//flash:remote workers
func UsesFunc() {}

// want +2 `resource NotLiteral is not initialised with a composite literal`
//
//flash:remote NotLiteral
func UsesNotLiteral() {}

// want +2 `resource Declared is not initialised with a composite literal`
//
//flash:remote Declared
func UsesDeclared() {}

// A queue resource with a bad configuration still resolves, and the
// positional literal is read.
//
//flash:remote Positional
func UsesPositional(x int) {}

// An imported load-balanced resource: the route rules apply.
//
// want +2 `UsesWeb on load-balanced resource res.Web needs method=`
//
//flash:remote res.Web path=/web
func UsesWeb() {}

// Deployment settings (SPEC 17.1): values, and the settings against the type.

var Deploy = runtime.LoadBalancer{Name: "deploy", DiskGB: 20, Timeout: 600000, FlashBoot: "FLASHBOOT", DataCenters: []string{"EU-RO-1"}, NetworkVolumes: []string{"vol1"}, Registry: "reg123"} // want Deploy:`resource LoadBalancer "deploy"`

var BadDeploy = runtime.CPUServerless{ // want BadDeploy:`resource CPUServerless "bad-deploy"`
	Name:           "bad-deploy",
	DiskGB:         -1,                      // want `resource BadDeploy: DiskGB must not be negative \(-1\)`
	Timeout:        -2,                      // want `resource BadDeploy: Timeout must not be negative \(-2\)`
	FlashBoot:      "ON",                    // want `resource BadDeploy: FlashBoot "ON" is not one of OFF, FLASHBOOT, PRIORITY_FLASHBOOT`
	DataCenters:    []string{"EU-RO-1", ""}, // want `resource BadDeploy: DataCenters must not contain an empty id`
	Registry:       "my registry",           // want `resource BadDeploy: Registry "my registry" is not a RunPod registry credential id`
	GPUs:           []string{"ADA_24"},      // want `resource BadDeploy: GPUs does not apply to CPU resource BadDeploy \(CPUServerless\): use Instances`
	GPUCount:       1,                       // want `resource BadDeploy: GPUCount does not apply to CPU resource BadDeploy`
	NetworkVolumes: nil,
}

var GPUInstances = runtime.Serverless{Name: "gi", Instances: []string{"cpu3c-2-4"}} // want `resource GPUInstances: Instances does not apply to GPU resource GPUInstances \(Serverless\): use GPUs, or a CPU type` GPUInstances:`resource Serverless "gi"`
