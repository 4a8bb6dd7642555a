package api

import (
	"context"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	ds "github.com/federated-customers/gateway/datasource"
)

// depthLimit rejects operations nested deeper than Max before any resolver
// runs (security: deep queries through linkedCustomers fan out per level).
type depthLimit struct{ Max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                          { return "DepthLimit" }
func (depthLimit) Validate(schema graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	if n := depth(rc.Doc, rc.Operation.SelectionSet, 0, map[string]bool{}); n > d.Max {
		return &gqlerror.Error{
			Message:    "the query is nested too deeply (" + strconv.Itoa(n) + " levels, at most " + strconv.Itoa(d.Max) + ")",
			Extensions: map[string]any{"code": string(ds.CodeQueryTooComplex)},
		}
	}
	return nil
}

func depth(doc *ast.QueryDocument, set ast.SelectionSet, level int, visiting map[string]bool) int {
	deepest := level
	for _, sel := range set {
		var n int
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") || len(s.SelectionSet) == 0 {
				// introspection is bounded by the schema itself; GraphiQL's
				// own introspection query is 15 levels deep
				n = level + 1
			} else {
				n = depth(doc, s.SelectionSet, level+1, visiting)
			}
		case *ast.InlineFragment:
			n = depth(doc, s.SelectionSet, level, visiting)
		case *ast.FragmentSpread:
			if visiting[s.Name] {
				continue // cycles are rejected by validation; never loop here
			}
			if f := doc.Fragments.ForName(s.Name); f != nil {
				visiting[s.Name] = true
				n = depth(doc, f.SelectionSet, level, visiting)
				delete(visiting, s.Name)
			}
		}
		deepest = max(deepest, n)
	}
	return deepest
}
