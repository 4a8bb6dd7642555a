package api

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/request"
)

const costExtension = "UpstreamCost"

// costStats is the estimate kept on the operation for extensions.cost.
type costStats struct {
	Estimate request.Estimate
	Limit    int
	// Likely is what the query will probably make (likely.go): it decides
	// the costly lane.
	Likely request.Estimate
}

// wantsCost reports whether the request asked for extensions.cost, and
// whether it asked for nothing else (a dry run).
func wantsCost(rc *graphql.OperationContext) (cost, dryRun bool) {
	dry, _ := rc.Extensions["dryRun"].(bool)
	c, _ := rc.Extensions["cost"].(bool)
	return c || dry, dry
}

// badCostExtensions refuses extensions.dryRun or extensions.cost that are
// not booleans: {dryRun: "true"} read as false would run the mutation the
// caller meant only to price.
func badCostExtensions(rc *graphql.OperationContext) *gqlerror.Error {
	for _, name := range []string{"dryRun", "cost"} {
		if v, ok := rc.Extensions[name]; ok && v != nil {
			if _, isBool := v.(bool); !isBool {
				return &gqlerror.Error{
					Message:    fmt.Sprintf("extensions.%s must be true or false, not %s", name, jsonText(v)),
					Extensions: map[string]any{"code": string(ds.CodeBadUserInput)},
				}
			}
		}
	}
	return nil
}

// jsonText is v as the client sent it, cut short.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// addCost puts extensions.cost on a response when the request asked for it.
func addCost(ctx context.Context, resp *graphql.Response) {
	if !graphql.HasOperationContext(ctx) {
		return
	}
	rc := graphql.GetOperationContext(ctx)
	if want, _ := wantsCost(rc); !want {
		return
	}
	st, _ := rc.Stats.GetExtension(costExtension).(*costStats)
	if st == nil {
		return
	}
	if resp.Extensions == nil {
		resp.Extensions = map[string]any{}
	}
	ext := st.Estimate.Extension(st.Limit)
	ext["likelyUpstreamCalls"] = st.Likely.Total
	resp.Extensions["cost"] = ext
}
