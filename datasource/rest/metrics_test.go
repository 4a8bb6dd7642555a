package rest_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// metric reads one series of the upstream metrics.
func metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(rest.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func TestUpstreamMetricsPerProvider(t *testing.T) {
	c, kit, _ := guarded(t, rest.Policy{}, rest.Quota{Rate: 1000, Burst: 10})
	k := map[string]string{"provider": "KINTSUGI"}
	type reading struct{ calls5xx, calls2xx, retries, notFound, latency, quota float64 }
	read := func() reading {
		return reading{
			calls5xx: metric(t, "gateway_upstream_calls_total", map[string]string{"provider": "KINTSUGI", "outcome": "5xx"}),
			calls2xx: metric(t, "gateway_upstream_calls_total", map[string]string{"provider": "KINTSUGI", "outcome": "2xx"}),
			retries:  metric(t, "gateway_upstream_retries_total", k),
			notFound: metric(t, "gateway_upstream_errors_total", map[string]string{"provider": "KINTSUGI", "code": string(ds.CodeNotFound)}),
			latency:  metric(t, "gateway_upstream_call_duration_seconds", k),
			quota:    metric(t, "gateway_upstream_quota_wait_seconds", k),
		}
	}
	before := read()
	before4xx := metric(t, "gateway_upstream_calls_total", map[string]string{"provider": "KINTSUGI", "outcome": "4xx"})
	kit.Inject(simkit.Fault{Status: 503}) // one failure, retried
	if err := list(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	kit.Inject(simkit.Fault{Status: 404, Message: "gone"})
	if err := list(context.Background(), c); ds.ErrorCode(err) != ds.CodeNotFound {
		t.Fatalf("err %v", err)
	}
	after := read()
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"5xx attempts", after.calls5xx - before.calls5xx, 1},
		{"2xx attempts", after.calls2xx - before.calls2xx, 1},
		{"4xx attempts", metric(t, "gateway_upstream_calls_total", map[string]string{"provider": "KINTSUGI", "outcome": "4xx"}) - before4xx, 1},
		{"retries", after.retries - before.retries, 1},
		{"latency samples", after.latency - before.latency, 3},
		{"quota waits", after.quota - before.quota, 3},
		{"NOT_FOUND errors", after.notFound - before.notFound, 1},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: +%v, want +%v", tc.name, tc.got, tc.want)
		}
	}
}
