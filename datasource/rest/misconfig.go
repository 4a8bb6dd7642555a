package rest

import (
	"errors"
	"fmt"

	ds "github.com/federated-customers/gateway/datasource"
)

// What a provider's answers can say is wrong with the gateway's configuration
// of it. The breaker stays closed for these (the provider answers); only its
// health and the readiness body show them.
const (
	// ProblemCredentialsRejected: the vendor answers 401 or 403 to the
	// gateway's own credentials.
	ProblemCredentialsRejected = "CREDENTIALS_REJECTED"
	// ProblemBaseURLNotFound: the vendor answers 404 for a list, which
	// exists at any correct base_url.
	ProblemBaseURLNotFound = "BASE_URL_NOT_FOUND"
)

// noteConfigError records a failed call that shows a configuration problem.
// The reason names the method and, for a list, its path (never a record's id
// nor anything the vendor wrote).
func (g *Guard) noteConfigError(req Request, err error) {
	var e *ds.Error
	if !errors.As(err, &e) {
		return
	}
	where := req.Method
	if req.List {
		where += " " + req.Path
	}
	var problem, reason string
	switch {
	case e.Reason == ds.ReasonProviderAuth && e.Status != 0:
		problem, reason = ProblemCredentialsRejected, fmt.Sprintf("the provider rejects the gateway's credentials (HTTP %d on %s)", e.Status, where)
	case e.Reason == ds.ReasonProviderAuth:
		problem, reason = ProblemCredentialsRejected, "the gateway could not obtain credentials for the provider"
	case e.Code == ds.CodeNotFound && req.List:
		problem, reason = ProblemBaseURLNotFound, fmt.Sprintf("the provider answers 404 for %s: check base_url", where)
	default:
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.problem, g.reason, g.lastError = problem, reason, reason
}

// noteConfigSuccess clears a problem an answer shows fixed: any answer
// proves the credentials, a list's answer proves the base_url too.
func (g *Guard) noteConfigSuccess(req Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.problem == ProblemCredentialsRejected || (req.List && g.problem != "") {
		g.problem, g.reason = "", ""
	}
}
