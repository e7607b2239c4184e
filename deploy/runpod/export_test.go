package runpod

import "context"

// Raw sends a call with an arbitrary body, for checks of the API's
// validation; the answer is discarded.
func (c *Client) Raw(ctx context.Context, method, path string, body any) error {
	return c.do(ctx, method, path, body, nil, nil)
}
