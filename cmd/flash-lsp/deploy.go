package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/flash-lsp/flash-lsp/analysis/engine"
	"github.com/flash-lsp/flash-lsp/codegen"
	"github.com/flash-lsp/flash-lsp/deploy"
	"github.com/flash-lsp/flash-lsp/deploy/image"
	"github.com/flash-lsp/flash-lsp/deploy/runpod"
)

func runDeploy(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flash-lsp deploy [-C dir] [--plan [--format text|json]] [--registry REGISTRY] [--base IMAGE] [--api-key-secret NAME] [--wait DURATION] [--yes] [RESOURCE...]")
		fs.PrintDefaults()
	}
	dir := fs.String("C", ".", "run in `dir` (inside the module to deploy)")
	planOnly := fs.Bool("plan", false, "print the plan and change nothing")
	format := fs.String("format", "text", "plan format: text or json")
	registry := fs.String("registry", "", "push images to `registry` (default $FLASH_REGISTRY)")
	base := fs.String("base", "", "base `image` (default: scratch plus the CA bundle)")
	secret := fs.String("api-key-secret", "", "RunPod secret `name` holding the API key, for resources that call others")
	wait := fs.Duration("wait", 5*time.Minute, "wait up to `duration` for endpoints with WorkersMin ≥ 1 to be healthy (0 skips)")
	yes := fs.Bool("yes", false, "deploy without asking, deletes included")
	only, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		return usageExit(err)
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "flash-lsp deploy: --format %q: want text or json\n", *format)
		return 2
	}
	key := os.Getenv("RUNPOD_API_KEY")
	if *registry == "" {
		*registry = os.Getenv("FLASH_REGISTRY")
	}
	if !*planOnly {
		if key == "" {
			fmt.Fprintln(stderr, "flash-lsp deploy: RUNPOD_API_KEY is not set: deploy needs a RunPod API key")
			return 2
		}
		if *registry == "" {
			fmt.Fprintf(stderr, "flash-lsp deploy: %v\n", image.ErrNoRegistry)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	target := codegen.DefaultTarget

	l, code := loadForCodegen(ctx, "deploy", *dir, target, true, stderr)
	if l == nil {
		return code
	}
	fmt.Fprintf(stderr, "✓ Checked %s in %s\n", count(l.Functions, "function", "functions"), count(l.Packages, "package", "packages"))
	res, code := generateFiles(l, "deploy", stderr)
	if res == nil {
		return code
	}
	st, err := deploy.ReadState(res.Root)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp deploy: %v\n", err)
		return 1
	}
	for i, arg := range only {
		if _, name, inCode := res.Resource(arg); inCode {
			only[i] = name
		} else if name, deployed := st.Lookup(arg); deployed {
			only[i] = name // removed from the code: its plan is a delete
		} else {
			fmt.Fprintf(stderr, "flash-lsp deploy: unknown resource %q (resources: %s)\n", arg, res.ResourceList())
			return 2
		}
	}
	changes, err := res.Write()
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp deploy: %v\n", err)
		return 1
	}
	printWarnings(stderr, changes)
	fmt.Fprintf(stderr, "✓ Generated %s and manifest\n", count(len(res.Handlers), "handler", "handlers"))

	pusher := &image.Pusher{}
	epoch, _ := codegen.SourceDateEpoch() // validated by generateFiles
	opts := deploy.BuildOptions{Target: target, Registry: *registry, Created: epoch}
	if *base != "" {
		if opts.Base, err = pusher.Pull(ctx, *base); err != nil {
			fmt.Fprintf(stderr, "flash-lsp deploy: --base: %v\n", err)
			return 1
		}
	}
	live := false
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		live = true
		opts.Progress = func(done, total int) {
			fmt.Fprintf(stderr, "\r\033[K  Building images… %d/%d", done, total)
		}
	}
	built, err := deploy.BuildImages(ctx, l.Project, res, opts)
	if live {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp deploy: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "✓ Built %s for %s\n", count(len(built), "image", "images"), target)

	resources := deploy.Resources(res.Manifest)
	deploy.MarkClientUsers(l.Module, resources)
	digests := map[string]string{}
	for name, b := range built {
		digests[name] = b.Digest
	}
	plan := deploy.MakePlan(deploy.PlanInput{Resources: resources, State: st, Digests: digests, Only: only,
		APIKeySecret: *secret, Deletes: *yes})
	if *format == "json" {
		data, err := plan.JSON()
		if err != nil {
			fmt.Fprintf(stderr, "flash-lsp deploy: %v\n", err)
			return 1
		}
		stdout.Write(data)
	} else {
		fmt.Fprint(stdout, plan.Text())
	}
	for _, w := range plan.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if *planOnly {
		return 0
	}
	if !plan.Changes() {
		fmt.Fprintln(stderr, "✓ Everything is deployed: nothing to do")
		return 0
	}
	if !*yes && isTerminal(os.Stdin) {
		fmt.Fprint(stderr, "Deploy? [y/N] ")
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(stderr, "flash-lsp deploy: nothing deployed")
			return 1
		}
	}
	client := runpod.New(key)
	err = deploy.Apply(ctx, plan, built, st, deploy.Options{
		Root: res.Root, Client: client, Pusher: pusher, APIKey: key, APIKeySecret: *secret,
		Wait: *wait, Deletes: *yes, Log: stderr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp deploy: %v\n", err)
		fmt.Fprintf(stderr, "  %s describes what exists; run deploy again to resume\n", relTo(*dir, res.Root, deploy.StatePath))
		return 1
	}
	fmt.Fprintf(stderr, "✓ Deployed %s; state in %s\n", count(len(st.Resources), "endpoint", "endpoints"), relTo(*dir, res.Root, deploy.StatePath))
	return 0
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flash-lsp status [-C dir] [--format text|json]")
		fs.PrintDefaults()
	}
	dir := fs.String("C", ".", "run in `dir` (inside the deployed module)")
	format := fs.String("format", "text", "output format: text or json")
	pos, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		return usageExit(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "flash-lsp status: unexpected argument %q\n", pos[0])
		return 2
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "flash-lsp status: --format %q: want text or json\n", *format)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, code := loadForCodegen(ctx, "status", *dir, codegen.DefaultTarget, false, stderr)
	if l == nil {
		return code
	}
	res, code := generateFiles(l, "status", io.Discard)
	if res == nil {
		return code
	}
	st, err := deploy.ReadState(res.Root)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp status: %v\n", err)
		return 1
	}
	ss := deploy.Statuses(deploy.Resources(res.Manifest), st)
	if *format == "json" {
		data, _ := json.MarshalIndent(map[string]any{"resources": ss}, "", "  ")
		fmt.Fprintln(stdout, string(data))
	} else {
		fmt.Fprint(stdout, deploy.StatusText(ss))
	}
	return 0
}

func runUndeploy(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("undeploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flash-lsp undeploy [-C dir] [--yes] [RESOURCE... | --all]")
		fs.PrintDefaults()
	}
	dir := fs.String("C", ".", "run in `dir` (inside the deployed module)")
	all := fs.Bool("all", false, "delete every endpoint recorded in the state")
	yes := fs.Bool("yes", false, "delete without asking")
	names, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		return usageExit(err)
	}
	if *all == (len(names) > 0) {
		fmt.Fprintln(stderr, "flash-lsp undeploy: name the resources to undeploy, or pass --all")
		fs.Usage()
		return 2
	}
	key := os.Getenv("RUNPOD_API_KEY")
	if key == "" {
		fmt.Fprintln(stderr, "flash-lsp undeploy: RUNPOD_API_KEY is not set: undeploy needs a RunPod API key")
		return 2
	}
	root, err := moduleRoot(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp undeploy: %v\n", err)
		return 2
	}
	st, err := deploy.ReadState(root)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp undeploy: %v\n", err)
		return 1
	}
	for i, n := range names {
		name, ok := st.Lookup(n)
		if !ok {
			fmt.Fprintf(stderr, "flash-lsp undeploy: resource %q is not deployed (deployed: %s)\n", n, strings.Join(st.Names(), ", "))
			return 2
		}
		names[i] = name
	}
	targets := names
	if *all {
		targets = st.Names()
	}
	if len(targets) == 0 {
		fmt.Fprintln(stderr, "✓ Nothing is deployed")
		return 0
	}
	for _, n := range targets {
		fmt.Fprintf(stdout, "delete %s\n", n)
	}
	// undeploy is itself the request to delete: like deploy, it asks only
	// on a terminal, unless --yes.
	if !*yes && isTerminal(os.Stdin) {
		fmt.Fprint(stderr, "Delete these endpoints? [y/N] ")
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(stderr, "flash-lsp undeploy: nothing deleted")
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := deploy.Undeploy(ctx, root, runpod.New(key), st, targets, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "flash-lsp undeploy: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "✓ Deleted %s\n", count(n, "endpoint", "endpoints"))
	return 0
}

// moduleRoot finds the module containing dir.
func moduleRoot(dir string) (string, error) {
	root, _, _, err := engine.FindModule(dir)
	return root, err
}
