package resolvers

import (
	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/graph/model"
)

// providerHealth is provider p's breaker state, nil when p is not
// configured or not open to this caller.
func (r *Resolver) providerHealth(svc *federate.Service, p ds.ProviderID) *model.ProviderHealth {
	if r.Health == nil || svc.Unavailable(p) != nil {
		return nil
	}
	h, ok := r.Health(p)
	if !ok {
		return nil
	}
	out := &model.ProviderHealth{State: model.CircuitState(h.State), Since: h.Since.UTC(), Configuration: model.ProviderConfigurationOk}
	if h.Problem != "" {
		problem := model.ProviderProblem(h.Problem)
		out.Configuration, out.Problem = model.ProviderConfigurationMisconfigured, &problem
	}
	if h.LastError != "" {
		msg := h.LastError
		out.LastError = &msg
	}
	return out
}
