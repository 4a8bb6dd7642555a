package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/request"
)

// queryLimits rejects, before any resolver runs, operations that are nested
// too deeply, cost too much or name too many fields once fragments are
// expanded (request.Measure, in place of gqlgen's complexity extension,
// which expanded every fragment spread again), or whose call estimate
// (request.Calls) is over the limit or the key's quota; a likely costly
// query takes a turn in the costly lane.
type queryLimits struct {
	Limits               // with defaults: MaxDepth, MaxComplexity, MaxFields, MaxCalls, HeavyCalls, HeavyFanOut
	heavy  *lane         // MaxHeavy turns for queries likely over HeavyCalls
	pace   *rate.Limiter // past a costly query's first HeavyCalls calls: the calls all of them together start per second
	es     graphql.ExecutableSchema
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
	st := request.Measure(ctx, q.es, rc.Doc, rc.Operation, rc.Variables)
	switch {
	case st.Depth > q.MaxDepth:
		return tooComplex("the query is nested too deeply (%d levels, at most %d)", st.Depth, q.MaxDepth)
	case st.Fields > q.MaxFields:
		return tooComplex("the query has %s fields once its fragments are expanded, at most %d", request.Count(st.Fields), q.MaxFields)
	case st.Complexity > q.MaxComplexity:
		return tooComplex("operation has complexity %s, which exceeds the limit of %d", request.Count(st.Complexity), q.MaxComplexity)
	}
	l := request.Of(ctx)
	if l == nil {
		return nil
	}
	svc := l.Service()
	est := request.Calls(svc, rc.Doc, rc.Operation, rc.Variables)
	likely := est
	if est.Total > q.HeavyCalls {
		likely = request.LikelyCalls(svc, rc.Doc, rc.Operation, rc.Variables)
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
