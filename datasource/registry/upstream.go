package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"

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
		b, err := yaml.Marshal(n.Content[i+1])
		if err != nil {
			return node, pol, fmt.Errorf("config: providers.%s.upstream: %w", provider, err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&pol); err != nil && !errors.Is(err, io.EOF) {
			return node, pol, fmt.Errorf("config: providers.%s.upstream: %w", provider, err)
		}
		if err := pol.Validate(); err != nil {
			return node, pol, fmt.Errorf("config: providers.%s: %w", provider, err)
		}
	}
	return out, pol, nil
}
