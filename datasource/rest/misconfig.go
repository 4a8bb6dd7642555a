package rest

import (
	"errors"
	"fmt"
	"sync"

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

// configState is the configuration problem the provider's last answers
// showed, until an answer shows it fixed.
type configState struct {
	mu      sync.Mutex
	problem string
	reason  string
}

func (s *configState) set(problem, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problem, s.reason = problem, reason
}

func (s *configState) get() (problem, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.problem, s.reason
}

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
	g.config.set(problem, reason)
	g.record(reason)
}

// noteConfigSuccess clears a problem an answer shows fixed: any answer
// proves the credentials, a list's answer proves the base_url too.
func (g *Guard) noteConfigSuccess(req Request) {
	g.config.mu.Lock()
	defer g.config.mu.Unlock()
	if g.config.problem == ProblemCredentialsRejected || (req.List && g.config.problem != "") {
		g.config.problem, g.config.reason = "", ""
	}
}
