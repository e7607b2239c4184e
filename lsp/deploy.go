package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/codegen"
	"github.com/flash-lsp/flash-lsp/deploy"
)

// deployPlanCommand returns the deploy plan of the module holding the
// argument's URI, as `flash-lsp deploy --plan` prints it, computed from
// .flash/deploy.json and the code in the editor, loaded for the target
// platform as `generate` loads it, without any network call and without
// building: a change of a function body (a new image) shows only in deploy
// --plan, which builds the images.
const deployPlanCommand = "flash.deployPlan"

func (s *Server) deployPlan(ctx context.Context, args []json.RawMessage) (any, error) {
	var arg struct {
		URI protocol.DocumentURI `json:"uri"`
	}
	if len(args) != 1 || json.Unmarshal(args[0], &arg) != nil || arg.URI == "" {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, deployPlanCommand+` takes [{"uri": "<file or folder URI in the module>"}]`)
	}
	path, err := uriToPath(arg.URI)
	if err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, err.Error())
	}
	ms := s.moduleFor(path, true)
	if ms == nil {
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "%s: no go.mod above %s", deployPlanCommand, path)
	}
	release(ctx)
	overlays, _ := s.overlays(ms.mod)
	l, err := codegen.LoadOverlay(ctx, ms.mod.Dir, codegen.DefaultTarget, overlays)
	if err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InternalError, "the module "+ms.mod.Dir+" could not be analysed: "+err.Error())
	}
	text, err := planText(l)
	if err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InternalError, err.Error())
	}
	return text, nil
}

// planText computes the plan of a loaded module.
func planText(l *codegen.Loaded) (string, error) {
	res, err := codegen.Generate(l.Project, codegen.Options{NoClient: true})
	if err != nil {
		return "", fmt.Errorf("computing the manifest: %w", err)
	}
	st, err := deploy.ReadState(l.Project.Root)
	if err != nil {
		return "", err
	}
	plan := deploy.MakePlan(deploy.PlanInput{Resources: deploy.Resources(res.Manifest), State: st})
	return plan.Text(), nil
}

// deployHover describes the deployment of the resource variable declared
// at the position: its endpoint and whether the code drifted from it,
// read from .flash/deploy.json (no network).
func deployHover(dc *docContext) *protocol.Hover {
	if dc.snap == nil {
		return nil
	}
	line := int(dc.m.position(dc.off).Line) + 1
	col := int(dc.m.position(dc.off).Character) + 1 // ASCII identifiers: UTF-16 = bytes
	var res *model.Resource
	for _, mp := range dc.snap.Models {
		for _, r := range mp.Resources {
			if r.Pos.Filename == dc.filename && r.Pos.Line == line && col >= r.Pos.Column && col < r.Pos.Column+len(r.Var) {
				res = r
			}
		}
	}
	if res == nil || res.Name == "" {
		return nil
	}
	cur, err := deploy.ResourceOf(res)
	if err != nil {
		return nil
	}
	st, err := deploy.ReadState(dc.snap.Module.Dir)
	if err != nil {
		return &protocol.Hover{Contents: protocol.MarkupContent{Kind: protocol.Markdown, Value: "**Deploy:** " + err.Error()}}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**Flash resource `%s`**\n\n", res.Name)
	ss := deploy.Statuses([]*deploy.Resource{cur}, st)
	for _, s := range ss {
		if s.Name != res.Name {
			continue
		}
		if s.EndpointID == "" {
			b.WriteString("**Deployed:** no (`flash-lsp deploy` creates it)\n")
			break
		}
		fmt.Fprintf(&b, "**Deployed:** endpoint `%s`", s.EndpointID)
		if s.URL != "" {
			fmt.Fprintf(&b, " at %s", s.URL)
		}
		b.WriteString("\n\n")
		if s.Drift == "no" {
			b.WriteString("**Drift:** none: the config matches what is deployed\n")
		} else {
			fmt.Fprintf(&b, "**Drift:** %s (run `flash-lsp deploy`)\n", s.Drift)
		}
	}
	start := dc.off - (col - res.Pos.Column)
	rng := dc.m.rng(start, start+len(res.Var))
	return &protocol.Hover{Contents: protocol.MarkupContent{Kind: protocol.Markdown, Value: b.String()}, Range: &rng}
}
