package deploy

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
)

// Status is one resource's deployment status.
type Status struct {
	Name        string `json:"name"`
	EndpointID  string `json:"endpoint_id"`
	URL         string `json:"url"`
	ImageDigest string `json:"image_digest"`
	ConfigHash  string `json:"config_hash"`
	// Drifted reports whether the code differs from what is deployed:
	// another config_hash or type, not deployed, or removed from the code.
	// Image changes need a build and are left to deploy --plan.
	Drifted bool `json:"drifted"`
	// Changes are the config keys whose values differ, sorted ("type" for
	// a type change); empty when there is no drift or no deployment.
	Changes []string `json:"changes"`
	// Drift says it in words: "no", "config: <keys>", "type: a → b", "not
	// deployed" or "removed from the code".
	Drift string `json:"drift_detail"`
}

// Statuses compares the state with the code's resources.
func Statuses(rs []*Resource, st *State) []Status {
	var out []Status
	inCode := map[string]bool{}
	for _, r := range rs {
		inCode[r.Name] = true
		s := Status{Name: r.Name, Drifted: true, Changes: []string{}, Drift: "not deployed"}
		if prev := st.Resources[r.Name]; prev != nil && prev.EndpointID != "" {
			s = statusOf(r.Name, prev)
			switch {
			case prev.Type != r.Type:
				s.Drifted, s.Changes = true, []string{"type"}
				s.Drift = "type: " + strings.ToLower(prev.Type) + " → " + strings.ToLower(r.Type)
			case prev.ConfigHash != r.ConfigHash:
				keys := ConfigChanges(prev.Config, r.Config)
				if len(keys) == 0 {
					keys = []string{"config"}
				}
				s.Drifted, s.Changes = true, keys
				s.Drift = "config: " + strings.Join(keys, ", ")
			default:
				s.Drift = "no"
			}
		}
		out = append(out, s)
	}
	for name, prev := range st.Resources {
		if !inCode[name] {
			s := statusOf(name, prev)
			s.Drifted, s.Drift = true, "removed from the code"
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func statusOf(name string, prev *ResourceState) Status {
	// A load balancer's base URL; a queue's is the one its routes hang off
	// (https://api.runpod.ai/v2/<id>), which the API gives only with a route.
	u := prev.RequestURLs.Base
	if u == "" {
		u = strings.TrimSuffix(prev.RequestURLs.RunSync, "/runsync")
	}
	return Status{Name: name, EndpointID: prev.EndpointID, URL: u, ImageDigest: prev.ImageDigest, ConfigHash: prev.ConfigHash,
		Changes: []string{}}
}

// StatusText formats statuses as a table.
func StatusText(ss []Status) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tENDPOINT\tURL\tIMAGE\tCONFIG\tDRIFT")
	for _, s := range ss {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, dash(s.EndpointID), dash(s.URL), dash(short(strings.TrimPrefix(s.ImageDigest, "sha256:"))), dash(short(s.ConfigHash)), s.Drift)
	}
	tw.Flush()
	return b.String()
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
