package rest

import (
	"context"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// Replicas sharing one credential never send more together, in any second,
// than one gateway alone would (rate + burst), and none takes more than
// its part of the rate.
func TestReplicasSharingAQuotaNeverBurstPastItTogether(t *testing.T) {
	for _, tc := range []struct {
		name        string
		rate        float64
		burst, n    int
		wantPerRate float64
	}{
		{"alone", 18, 1, 1, 18},
		{"Digital River test key, two replicas", 18, 1, 2, 8.5},
		{"Digital River test key, three replicas", 18, 1, 3, 5.333},
		{"Digital River live key, two replicas", 200, 25, 2, 100},
		{"Digital River live key, four replicas", 200, 25, 4, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, b := shareOf(tc.rate, tc.burst, tc.n)
			if b < 1 {
				t.Fatalf("burst %d: a bucket with no token never sends", b)
			}
			if together, alone := float64(tc.n)*(r+float64(b)), tc.rate+float64(tc.burst); together > alone+1e-9 {
				t.Fatalf("%d replicas at %.3g/s with bursts of %d send up to %.3g in a second, more than %.3g alone", tc.n, r, b, together, alone)
			}
			if r > tc.rate/float64(tc.n)+1e-9 || r < tc.wantPerRate-0.001 {
				t.Fatalf("rate %.4g per replica, want %.4g", r, tc.wantPerRate)
			}
		})
	}
}

// An attempt that finds a token free is not PROVIDER_RATE_LIMITED, even when
// its time ran out on the way to the quota (a busy machine): RoundTrip then
// answers with the budget's or the caller's error, as the quota had room.
func TestAFreeTokenIsNoQuotaErrorWhenTheDeadlineHasPassed(t *testing.T) {
	g := NewGuard(ds.Kintsugi, nil, Policy{}, Quota{Rate: 100, Burst: 10}, nil)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Millisecond))
	defer cancel()
	if err := g.waitQuota(ctx); err != nil {
		t.Fatalf("err %v, want none: a token was free", err)
	}
}
