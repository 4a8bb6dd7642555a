package request

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/graph"
	"github.com/federated-customers/gateway/graph/model"
)

// Fan-out assumed for list fields whose size the arguments do not give: the
// complexity functions and the call estimate both read them.
const (
	sourcesPerCustomer = 4
	linksPerCustomer   = 4
)

// SetComplexity makes list fields cost what they can fetch, so the
// complexity limit tracks upstream work rather than the query's length.
func SetComplexity(cfg *graph.Config) {
	c := &cfg.Complexity
	page := func(first *int) int {
		if first == nil || *first < 1 {
			return federate.DefaultFirst
		}
		return min(*first, federate.MaxFirst) // more is refused when the field runs
	}
	c.Query.Customers = func(child int, first *int, _ *string, last *int, _ *string, _ *model.CustomerFilter, _ *model.CustomerOrder) int {
		n := page(first)
		if last != nil {
			n = page(last)
		}
		return add(1, mul(n, child))
	}
	c.Query.CustomerSources = func(child int, first *int, _ *string, last *int, _ *string, _ *model.CustomerSourceFilter) int {
		n := page(first)
		if last != nil {
			n = page(last)
		}
		return add(1, mul(n, child))
	}
	c.Query.Nodes = func(child int, ids []string) int { return add(1, mul(len(ids), child)) }
	c.Customer.Sources = func(child int) int { return add(1, mul(sourcesPerCustomer, child)) }
	c.Customer.LinkedCustomers = func(child int) int { return add(1, mul(linksPerCustomer, child)) }
	c.Customer.Links = func(child int) int { return add(1, mul(linksPerCustomer, child)) }
}

// mul is a saturating product of non-negative figures (see saturated).
func mul(a, b int) int {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > saturated/b {
		return saturated
	}
	return a * b
}

// saturated is where every figure of the walk stops growing: far above any
// limit, and small enough that the complexity functions' products of a page
// size and a child figure cannot overflow.
const saturated = 1 << 40

// Count is a figure for a message ("more than 2^40" once saturated).
func Count(n int) string {
	if n >= saturated {
		return fmt.Sprintf("more than %d", saturated)
	}
	return fmt.Sprint(n)
}

// add is a saturating sum of non-negative figures.
func add(a, b int) int {
	if a < 0 {
		a = 0
	}
	if b < 0 {
		b = 0
	}
	return min(a+b, saturated)
}

// Shape is an operation's figures the limits bound; within the walk, one
// selection set's, Depth relative to the set.
type Shape struct {
	Depth      int // levels of fields below the set (introspection counts one)
	Fields     int // fields once every fragment spread is expanded
	Complexity int // gqlgen's complexity, with the schema's custom functions
}

type walker struct {
	ctx    context.Context
	es     graphql.ExecutableSchema
	schema *ast.Schema
	doc    *ast.QueryDocument
	vars   map[string]any
	memo   map[string]Shape // per fragment name: each fragment is walked once
	active map[string]bool  // fragments being walked (cycles; validation rejects them first)
}

// Measure walks an operation once, each fragment once and its figures
// reused at every spread, so it is linear in the document (security: the
// class of GHSA-mfj6-6p54-m98c, where expanding every spread again took 2^N
// steps for a chain of fragments that each spread the next twice).
func Measure(ctx context.Context, es graphql.ExecutableSchema, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) Shape {
	w := &walker{ctx: ctx, es: es, schema: es.Schema(), doc: doc, vars: vars, memo: map[string]Shape{}, active: map[string]bool{}}
	return w.set(op.SelectionSet)
}

func (w *walker) set(set ast.SelectionSet) Shape {
	var out Shape
	merge := func(s Shape) {
		out.Depth = max(out.Depth, s.Depth)
		out.Fields = add(out.Fields, s.Fields)
		out.Complexity = add(out.Complexity, s.Complexity)
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			merge(w.field(s))
		case *ast.InlineFragment:
			merge(w.set(s.SelectionSet))
		case *ast.FragmentSpread:
			merge(w.fragment(s.Name))
		}
	}
	return out
}

func (w *walker) fragment(name string) Shape {
	if st, ok := w.memo[name]; ok {
		return st
	}
	if w.active[name] {
		return Shape{}
	}
	f := w.doc.Fragments.ForName(name)
	if f == nil {
		return Shape{}
	}
	w.active[name] = true
	st := w.set(f.SelectionSet)
	delete(w.active, name)
	w.memo[name] = st
	return st
}

func (w *walker) field(f *ast.Field) Shape {
	if strings.HasPrefix(f.Name, "__") {
		// Introspection is bounded by the schema itself (GraphiQL's own
		// query is 15 levels deep): one level, no complexity, but its
		// fields count.
		child := w.set(f.SelectionSet)
		return Shape{Depth: 1, Fields: add(1, child.Fields)}
	}
	child := w.set(f.SelectionSet)
	st := Shape{Depth: 1 + child.Depth, Fields: add(1, child.Fields)}
	if f.Definition == nil || f.ObjectDefinition == nil {
		st.Complexity = add(1, child.Complexity)
		return st
	}
	typ := w.schema.Types[f.Definition.Type.Name()]
	childComplexity := 0
	if typ != nil && (typ.Kind == ast.Object || typ.Kind == ast.Interface || typ.Kind == ast.Union) {
		childComplexity = child.Complexity
	}
	args := f.ArgumentMap(w.vars)
	owners := []*ast.Definition{f.ObjectDefinition}
	if f.ObjectDefinition.Kind == ast.Interface || f.ObjectDefinition.Kind == ast.Union {
		// interfaces have no costs of their own: the dearest implementor counts
		owners = w.schema.GetPossibleTypes(f.ObjectDefinition)
	}
	for _, o := range owners {
		c, ok := w.es.Complexity(w.ctx, o.Name, f.Name, childComplexity, args)
		if !ok || c < 1 {
			c = add(1, childComplexity)
		}
		st.Complexity = max(st.Complexity, min(c, saturated))
	}
	return st
}
