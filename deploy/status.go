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
	// Drift is "no", "config: <keys>", "not deployed" or "removed from the
	// code". Image changes need a build and are left to deploy --plan.
	Drift string `json:"drift"`
}

// Statuses compares the state with the code's resources.
func Statuses(rs []*Resource, st *State) []Status {
	var out []Status
	inCode := map[string]bool{}
	for _, r := range rs {
		inCode[r.Name] = true
		s := Status{Name: r.Name, Drift: "not deployed"}
		if prev := st.Resources[r.Name]; prev != nil && prev.EndpointID != "" {
			s = statusOf(r.Name, prev)
			switch {
			case prev.Type != r.Type:
				s.Drift = "type: " + strings.ToLower(prev.Type) + " → " + strings.ToLower(r.Type)
			case prev.ConfigHash != r.ConfigHash:
				keys := ConfigChanges(prev.Config, r.Config)
				if len(keys) == 0 {
					keys = []string{"config"}
				}
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
			s.Drift = "removed from the code"
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func statusOf(name string, prev *ResourceState) Status {
	u := prev.RequestURLs.Base
	if u == "" {
		u = prev.RequestURLs.RunSync
	}
	return Status{Name: name, EndpointID: prev.EndpointID, URL: u, ImageDigest: prev.ImageDigest, ConfigHash: prev.ConfigHash}
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
