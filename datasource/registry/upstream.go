package registry

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/federated-customers/gateway/config"
	"github.com/federated-customers/gateway/datasource/rest"
)

// upstreamKey is the block of a provider's configuration that sets its
// rest.Policy (timeout, budget, rate, burst, breaker_failures,
// breaker_open, retry_ratio); the vendor packages never see it.
const upstreamKey = "upstream"

// splitUpstream returns node without its upstream: block, and that block decoded.
func splitUpstream(node yaml.Node, provider string) (yaml.Node, rest.Policy, error) {
	var pol rest.Policy
	n := node
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = *n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return node, pol, nil
	}
	out := n
	out.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != upstreamKey {
			out.Content = append(out.Content, n.Content[i], n.Content[i+1])
			continue
		}
		if err := config.DecodeProvider(*n.Content[i+1], provider+"."+upstreamKey, &pol); err != nil {
			return node, pol, err
		}
		if err := pol.Validate(); err != nil {
			return node, pol, fmt.Errorf("config: line %d: providers.%s.upstream: %w", n.Content[i].Line, provider, err)
		}
	}
	return out, pol, nil
}
