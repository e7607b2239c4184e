package lsp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

// The deploy plan command and the deploy hover read .flash/deploy.json and
// the code in the editor; nothing is built and nothing is called.
func TestDeployPlanAndHover(t *testing.T) {
	files := map[string]string{}
	for k, v := range appFiles {
		files[k] = strings.Replace(v, "method=post", "method=POST", 1)
	}
	files[".flash/deploy.json"] = `{
  "version": 1,
  "resources": {
    "test-api": {
      "endpoint_id": "abc123",
      "name": "test-api",
      "type": "LOAD_BALANCER",
      "resource_type": "LoadBalancerSlsResource",
      "image": "reg/test-api:sha-0123456789ab",
      "image_digest": "sha256:0123456789ab",
      "config_hash": "deployed-hash",
      "config": {"name": "test-api", "workersMax": 2},
      "env_hash": "",
      "request_urls": {"base": "https://abc123.api.runpod.ai", "health": "https://abc123.api.runpod.ai/ping"}
    }
  }
}
`
	dir := writeModule(t, files)
	c, _, _ := session(t, nil)
	c.initialize(dir)
	resFile := filepath.Join(dir, "res", "res.go")
	c.open(resFile, 1)
	c.waitDiags(resFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return len(p.Diagnostics) == 0 })

	var plan string
	args := map[string]any{"command": deployPlanCommand, "arguments": []any{map[string]string{"uri": string(pathToURI(dir))}}}
	if err := c.call(protocol.MethodWorkspaceExecuteCommand, args, &plan); err != nil {
		t.Fatal(err)
	}
	if want := "create jobs\nupdate test-api: env, workersMax\n"; plan != want {
		t.Errorf("plan:\n%s\nwant:\n%s", plan, want)
	}

	text := files["res/res.go"]
	m := newMapper([]byte(text))
	var hover protocol.Hover
	if err := c.call(protocol.MethodTextDocumentHover, map[string]any{
		"textDocument": map[string]any{"uri": pathToURI(resFile)}, "position": m.position(strings.Index(text, "API =") + 1),
	}, &hover); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"`test-api`", "endpoint `abc123`", "https://abc123.api.runpod.ai", "**Drift:** config: workersMax"} {
		if !strings.Contains(hover.Contents.Value, want) {
			t.Errorf("hover lacks %q:\n%s", want, hover.Contents.Value)
		}
	}
	if err := c.call(protocol.MethodTextDocumentHover, map[string]any{
		"textDocument": map[string]any{"uri": pathToURI(resFile)}, "position": m.position(strings.Index(text, "Jobs =") + 1),
	}, &hover); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(hover.Contents.Value, "**Deployed:** no") {
		t.Errorf("hover on Jobs:\n%s", hover.Contents.Value)
	}
	if _, err := os.Stat(filepath.Join(dir, ".flash", "flash_manifest.json")); err == nil {
		t.Error("the plan command wrote the manifest")
	}
}
