package api

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"

	ds "github.com/federated-customers/gateway/datasource"
)

// providerLine is one provider's entry in extensions.providers.
func providerLine(p ds.ProviderID, s ds.ProviderStats) map[string]any {
	line := map[string]any{
		"provider":   p.String(),
		"calls":      s.Calls,
		"durationMs": float64(s.Duration.Microseconds()) / 1000,
		"freshness":  string(s.Freshness),
		"cached":     s.Cached, // records served without an upstream call
	}
	if s.Freshness != ds.Live {
		line["ageSeconds"] = ageSeconds(s.Age) // how old the oldest cached copy served is
	}
	return line
}

func ageSeconds(d time.Duration) int { return int(d.Round(time.Second) / time.Second) }

// addReport puts extensions.providers and extensions.warnings on a response.
func addReport(ctx context.Context, resp *graphql.Response) {
	rep := ds.ReportFrom(ctx)
	if rep == nil {
		return
	}
	stats, warnings := rep.Snapshot()
	if len(stats) == 0 && len(warnings) == 0 {
		return
	}
	if resp.Extensions == nil {
		resp.Extensions = map[string]any{}
	}
	if len(stats) > 0 {
		var list []map[string]any
		for _, p := range ds.AllProviders {
			if s, ok := stats[p]; ok {
				list = append(list, providerLine(p, s))
			}
		}
		resp.Extensions["providers"] = list
	}
	if len(warnings) > 0 {
		var list []map[string]any
		for _, w := range warnings {
			m := map[string]any{"code": string(w.Code), "message": w.Message}
			if w.Provider != nil {
				m["provider"] = w.Provider.String()
			}
			list = append(list, m)
		}
		resp.Extensions["warnings"] = list
	}
}
