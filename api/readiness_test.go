package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

func TestReadinessIsUnreadyOnlyWhileItCannotServe(t *testing.T) {
	health := func(p ds.ProviderID) (rest.Health, bool) {
		if p == ds.Telness {
			return rest.Health{State: "OPEN", LastError: "HTTP 503"}, true
		}
		return rest.Health{State: "CLOSED"}, true
	}
	for _, tc := range []struct {
		name      string
		providers []ds.ProviderID
		start     bool
		stop      bool
		code      int
		body      string
	}{
		{"starting", []ds.ProviderID{ds.Kintsugi}, false, false, 503, `"reason": "starting"`},
		{"serving", []ds.ProviderID{ds.Kintsugi}, true, false, 200, `"status": "ready"`},
		{"a circuit open is degraded", []ds.ProviderID{ds.Kintsugi, ds.Telness}, true, false, 200, `"state": "CIRCUIT_OPEN"`},
		{"shutting down", []ds.ProviderID{ds.Kintsugi}, true, true, 503, `"reason": "shutting down"`},
		{"no provider", nil, true, false, 503, `"reason": "no provider configured"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReadiness(ReadinessOptions{Health: health, Providers: tc.providers})
			if tc.start {
				r.Started()
			}
			if tc.stop {
				r.ShuttingDown()
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.body) || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
		})
	}
}
