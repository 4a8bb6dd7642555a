package api

import (
	"context"
	"encoding/hex"
	"net/http"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/request"
)

// graphqlEndpoint authenticates, bounds the body, checks method and media
// type, then builds the request's report and dataloaders.
func graphqlEndpoint(serving func() *serving, open *federate.Service, callers func() map[[32]byte]caller, responses *responseCache) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sv := serving() // the limits in force when the request starts
		gql, shed, l := sv.gql, sv.shed, sv.limits
		switch r.Method {
		case http.MethodGet, http.MethodPost:
		case http.MethodOptions:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeError(w, r, http.StatusMethodNotAllowed, ds.CodeBadUserInput, "use GET or POST for /graphql")
			return
		}
		svc, quota, who, ok := authenticate(w, r, open, callers())
		if !ok {
			return
		}
		body, ok := readBody(w, r, l) // before a slot: a slow body holds no capacity
		if !ok {
			return
		}
		body = documentID(r, body)
		release, ok := shed.admit(w, r)
		if !ok {
			return
		}
		defer release()
		pend := &pending{get: r.Method == http.MethodGet, ifNoneMatch: r.Header.Get("If-None-Match")}
		if responses != nil {
			key := responseKey(who, r, body)
			if responses.serve(w, r, key) {
				return
			}
			pend.cache, pend.key, pend.ctype = responses, key, responseType(r)
			pend.records, pend.index = responses.changes()
		}
		ctx, cancel := context.WithTimeout(r.Context(), l.Timeout)
		defer cancel()
		x := exchangeOf(ctx)
		if x == nil { // observer.wrap makes it; an endpoint mounted without the observer makes its own
			ctx, x = withExchange(ctx)
		}
		x.begin(who, quota, pend)
		ctx, rep := ds.WithReport(ctx)
		note(ctx, func(a *access) { a.report = rep })
		ctx = ds.WithIdempotency(ctx, hex.EncodeToString(who[:]), r.Header.Get("Idempotency-Key"))
		ctx = ds.WithCallBudget(ctx, l.CallBudget)
		defer x.release()
		defer x.quota.charge(ctx)
		ctx = request.With(ctx, request.NewLoaders(svc))
		gql.ServeHTTP(&statusFixer{ResponseWriter: w, x: x}, r.WithContext(ctx))
	})
}
