package rest_test

import (
	"context"
	"testing"

	"github.com/federated-customers/gateway/datasource/rest"
	"github.com/federated-customers/gateway/datasource/simkit"
)

func TestConfigurationProblemsShowInHealthUntilAnAnswerShowsThemFixed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   simkit.Fault
		call    string // "list" or "lookup"
		problem string
	}{
		{"a list answering 404: the base_url", simkit.Fault{Status: 404, Message: "no route"}, "list", rest.ProblemBaseURLNotFound},
		{"401 on a list: the credentials", simkit.Fault{Status: 401, Message: "bad key"}, "list", rest.ProblemCredentialsRejected},
		{"403 on a lookup: the credentials", simkit.Fault{Status: 403, Message: "forbidden"}, "lookup", rest.ProblemCredentialsRejected},
		{"a lookup answering 404 is a missing record, not a problem", simkit.Fault{Status: 404, Message: "not found"}, "lookup", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, kit, g := guarded(t, rest.Policy{}, rest.Quota{})
			kit.Inject(tc.fault)
			ctx := context.Background()
			if tc.call == "list" {
				_ = list(ctx, c)
			} else {
				_, _ = c.GetCustomers(ctx, []string{"cust_0000000000"})
			}
			h := g.Health()
			if h.Problem != tc.problem || (tc.problem != "" && (h.Reason == "" || h.LastError != h.Reason)) || h.State != "CLOSED" {
				t.Fatalf("health %+v, want problem %q with a reason, breaker closed", h, tc.problem)
			}
			// the next answer (a good list) shows it fixed
			if err := list(ctx, c); err != nil {
				t.Fatal(err)
			}
			if h := g.Health(); h.Problem != "" || h.Reason != "" {
				t.Fatalf("after a good answer: %+v", h)
			}
		})
	}
}
