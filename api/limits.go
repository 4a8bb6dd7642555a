package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"

	ds "github.com/federated-customers/gateway/datasource"
)

// queryLimits rejects, before any resolver runs, operations that are nested
// too deeply, cost too much or name too many fields once fragments are
// expanded. It replaces gqlgen's complexity extension and the old depth
// walk: both expanded every fragment spread again, so a chain of fragments
// that each spread the next twice took 2^N steps (security: the class of
// GHSA-mfj6-6p54-m98c). This walk visits each fragment once and reuses its
// figures at every spread, so it is linear in the document.
type queryLimits struct {
	MaxDepth      int
	MaxComplexity int
	MaxFields     int
	// MaxCalls bounds the estimated upstream calls of one operation.
	MaxCalls int
	// HeavyCalls is the estimate over which a query takes a slot of heavy.
	HeavyCalls int
	// HeavyFanOut bounds a costly query's upstream calls in flight.
	HeavyFanOut int
	heavy       *lane
	pace        *rate.Limiter // past a costly query's first HeavyCalls calls: the calls all of them together start per second
	es          graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &queryLimits{}

func (*queryLimits) ExtensionName() string { return "QueryLimits" }

func (q *queryLimits) Validate(schema graphql.ExecutableSchema) error {
	q.es = schema
	return nil
}

func (q *queryLimits) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if err := badCostExtensions(rc); err != nil {
		return err
	}
	if err := badBytes(rc); err != nil {
		return err
	}
	if rc.Operation == nil {
		return nil
	}
	st := measure(ctx, q.es, rc.Doc, rc.Operation, rc.Variables)
	switch {
	case st.depth > q.MaxDepth:
		return tooComplex("the query is nested too deeply (%d levels, at most %d)", st.depth, q.MaxDepth)
	case st.fields > q.MaxFields:
		return tooComplex("the query has %s fields once its fragments are expanded, at most %d", count(st.fields), q.MaxFields)
	case st.complexity > q.MaxComplexity:
		return tooComplex("operation has complexity %s, which exceeds the limit of %d", count(st.complexity), q.MaxComplexity)
	}
	svc := serviceFrom(ctx)
	if svc == nil {
		return nil
	}
	est := estimate(svc, rc.Doc, rc.Operation, rc.Variables)
	likely := est
	if est.Total > q.HeavyCalls {
		likely = likelyEstimate(svc, rc.Doc, rc.Operation, rc.Variables)
	}
	rc.Stats.SetExtension(costExtension, &costStats{Estimate: est, Limit: q.MaxCalls, Likely: likely})
	if _, dry := wantsCost(rc); dry {
		return nil // a dry run makes no call: no limit, quota or turn applies
	}
	if est.Total > q.MaxCalls {
		err := tooComplex("the query would make up to %s, over the limit of %d: ask for fewer aliases, smaller pages or less nesting",
			est.String(), q.MaxCalls)
		err.Extensions["cost"] = est.Extension(q.MaxCalls)
		return err
	}
	if err := quotaFrom(ctx).admit(est.Total); err != nil {
		return err
	}
	// the costly lane takes what is likely costly; the upper bound above
	// refused and reserved, and the run-time budget bounds the rest
	if likely.Total > q.HeavyCalls && q.heavy != nil {
		release, ok := q.heavy.enter(ctx)
		if !ok {
			quotaFrom(ctx).refuse(http.StatusServiceUnavailable, 1)
			return &gqlerror.Error{
				Message:    fmt.Sprintf("too many costly queries (over %d upstream calls) are running: retry later, or ask for less", q.HeavyCalls),
				Extensions: map[string]any{"code": string(ds.CodeProviderUnavailable)},
			}
		}
		hold(ctx, release)
		ds.LimitFanOut(ctx, q.HeavyFanOut, q.pace, q.HeavyCalls)
	}
	return nil
}

func tooComplex(format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": string(ds.CodeQueryTooComplex)},
	}
}

// saturated is where every figure of the walk stops growing: far above any
// limit, and small enough that the complexity functions' products of a page
// size and a child figure cannot overflow.
const saturated = 1 << 40

func count(n int) string {
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

// stats are one selection set's figures; depth is relative to the set.
type stats struct {
	depth      int // levels of fields below the set (introspection counts one)
	fields     int // fields once every fragment spread is expanded
	complexity int // gqlgen's complexity, with the schema's custom functions
}

type walker struct {
	ctx    context.Context
	es     graphql.ExecutableSchema
	schema *ast.Schema
	doc    *ast.QueryDocument
	vars   map[string]any
	memo   map[string]stats // per fragment name: each fragment is walked once
	active map[string]bool  // fragments being walked (cycles; validation rejects them first)
}

func measure(ctx context.Context, es graphql.ExecutableSchema, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) stats {
	w := &walker{ctx: ctx, es: es, schema: es.Schema(), doc: doc, vars: vars, memo: map[string]stats{}, active: map[string]bool{}}
	return w.set(op.SelectionSet)
}

func (w *walker) set(set ast.SelectionSet) stats {
	var out stats
	merge := func(s stats) {
		out.depth = max(out.depth, s.depth)
		out.fields = add(out.fields, s.fields)
		out.complexity = add(out.complexity, s.complexity)
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

func (w *walker) fragment(name string) stats {
	if st, ok := w.memo[name]; ok {
		return st
	}
	if w.active[name] {
		return stats{}
	}
	f := w.doc.Fragments.ForName(name)
	if f == nil {
		return stats{}
	}
	w.active[name] = true
	st := w.set(f.SelectionSet)
	delete(w.active, name)
	w.memo[name] = st
	return st
}

func (w *walker) field(f *ast.Field) stats {
	if strings.HasPrefix(f.Name, "__") {
		// Introspection is bounded by the schema itself (GraphiQL's own
		// query is 15 levels deep): one level, no complexity, but its
		// fields count.
		child := w.set(f.SelectionSet)
		return stats{depth: 1, fields: add(1, child.fields)}
	}
	child := w.set(f.SelectionSet)
	st := stats{depth: 1 + child.depth, fields: add(1, child.fields)}
	if f.Definition == nil || f.ObjectDefinition == nil {
		st.complexity = add(1, child.complexity)
		return st
	}
	typ := w.schema.Types[f.Definition.Type.Name()]
	childComplexity := 0
	if typ != nil && (typ.Kind == ast.Object || typ.Kind == ast.Interface || typ.Kind == ast.Union) {
		childComplexity = child.complexity
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
		st.complexity = max(st.complexity, min(c, saturated))
	}
	return st
}
