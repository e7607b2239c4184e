package deploy

import (
	"context"
	"fmt"
	"io"

	"github.com/flash-lsp/flash-lsp/deploy/runpod"
)

// Undeploy deletes the endpoints recorded in the state for names (every
// recorded one when names is empty), writing the state after each. An
// interrupted create is finished off too: its endpoint is looked up by name.
func Undeploy(ctx context.Context, root string, c *runpod.Client, st *State, names []string, log io.Writer) (int, error) {
	if len(names) == 0 {
		names = st.Names()
	}
	var list []runpod.Endpoint
	listed := false
	deleted := 0
	for _, name := range names {
		rs := st.Resources[name]
		if rs == nil {
			continue
		}
		id := rs.EndpointID
		if id == "" && rs.PendingCreate {
			if !listed {
				var err error
				if list, err = c.ListEndpoints(ctx); err != nil {
					return deleted, &StepError{name, "look for the endpoint of an interrupted create", err}
				}
				listed = true
			}
			for _, ep := range list {
				if ep.Name == rs.Name && ep.Type == rs.Type {
					id = ep.ID
				}
			}
		}
		if id != "" {
			if err := c.DeleteEndpoint(ctx, id); err != nil {
				return deleted, &StepError{name, "delete endpoint " + id, err}
			}
			deleted++
			fmt.Fprintf(log, "✓ Deleted endpoint %s (%s)\n", name, id)
		}
		delete(st.Resources, name)
		if err := WriteState(root, st); err != nil {
			return deleted, &StepError{name, "write state", err}
		}
	}
	return deleted, nil
}
