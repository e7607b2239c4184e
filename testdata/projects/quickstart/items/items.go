// Package items is the catalogue served by the deployed API: one route
// with a path variable and an optional query parameter, and an error that
// carries its own HTTP status.
package items

import (
	"context"
	"fmt"
	"strings"

	_ "example.com/quickstart/res"
)

// Item is one catalogue entry.
type Item struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Price       float64  `json:"price"`
	Tags        []string `json:"tags,omitempty"`
	Description string   `json:"description,omitempty"`
}

// NotFoundError is returned for an unknown item; handlers answer 404.
type NotFoundError struct{ ID string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("item %q not found", e.ID) }

// StatusCode makes the handler answer 404 Not Found.
func (e *NotFoundError) StatusCode() int { return 404 }

var catalogue = map[string]Item{
	"1": {ID: "1", Name: "Widget", Price: 9.99, Tags: []string{"tools"}, Description: "A small widget."},
	"2": {ID: "2", Name: "Gadget", Price: 24.5, Tags: []string{"tools", "electronics"}, Description: "A useful gadget."},
	"3": {ID: "3", Name: "Gizmo", Price: 3, Description: "An inexpensive gizmo."},
}

// GetItem returns the item with the given id; the description is included
// only when verbose is true.
//
//flash:remote res.API method=GET path=/items/{id}
func GetItem(ctx context.Context, id string, verbose *bool) (Item, error) {
	item, ok := catalogue[strings.TrimSpace(id)]
	if !ok {
		return Item{}, &NotFoundError{ID: id}
	}
	if verbose == nil || !*verbose {
		item.Description = ""
	}
	return item, ctx.Err()
}
