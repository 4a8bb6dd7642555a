package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	ds "github.com/federated-customers/gateway/datasource"
)

// ReasonNotInList says an operation was refused because it is not one of
// the trusted documents (require_persisted), as Apollo Router says it.
const ReasonNotInList = "PERSISTED_QUERY_NOT_IN_LIST"

// trustedDocuments runs the manifest's operations by id (Apollo's
// persisted query list, Relay's persisted queries) and, with Require,
// refuses any other document: a BFF's deployment then runs only the
// operations its clients were built with.
type trustedDocuments struct {
	byID    map[string]string
	bodies  map[string]bool // SHA-256 of each document: a full text in the list is allowed too
	require bool
}

func newTrustedDocuments(p Persisted) *trustedDocuments {
	t := &trustedDocuments{byID: p.Manifest, bodies: map[string]bool{}, require: p.Require}
	for _, q := range p.Manifest {
		t.bodies[sha(q)] = true
	}
	return t
}

var _ interface {
	graphql.OperationParameterMutator
	graphql.HandlerExtension
} = (*trustedDocuments)(nil)

func (t *trustedDocuments) ExtensionName() string                          { return "TrustedDocuments" }
func (t *trustedDocuments) Validate(schema graphql.ExecutableSchema) error { return nil }

func (t *trustedDocuments) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	id := persistedID(raw.Extensions)
	if q, ok := t.byID[id]; ok && id != "" {
		if raw.Query != "" && raw.Query != q {
			return &gqlerror.Error{Message: "the query text is not the persisted document " + id,
				Err: ds.Errorf(ds.CodeBadUserInput, "the query text is not the persisted document %s", id)}
		}
		raw.Query = q
		// answered from the manifest: APQ (whose ids are SHA-256 only) has nothing to add
		raw.Extensions = maps.Clone(raw.Extensions)
		delete(raw.Extensions, "persistedQuery")
		return nil
	}
	if !t.require {
		return nil
	}
	if raw.Query != "" && t.bodies[sha(raw.Query)] {
		return nil
	}
	e := ds.Errorf(ds.CodeForbidden, "this gateway runs only the operations of its persisted-query list (require_persisted): send extensions.persistedQuery.sha256Hash of one of them")
	e.Reason = ReasonNotInList
	return &gqlerror.Error{Message: e.Message, Err: e}
}

// persistedID is extensions.persistedQuery.sha256Hash (Apollo), or .id.
func persistedID(ext map[string]any) string {
	pq, _ := ext["persistedQuery"].(map[string]any)
	if id, _ := pq["sha256Hash"].(string); id != "" {
		return id
	}
	id, _ := pq["id"].(string)
	return id
}

// ParseManifest reads trusted documents: Apollo's persisted query manifest
// ({"format": "apollo-persisted-query-manifest", "operations": [{"id", "body"}]})
// or Relay's map of id to document text.
func ParseManifest(b []byte) (map[string]string, error) {
	var apollo struct {
		Format     string `json:"format"`
		Operations []struct {
			ID   string `json:"id"`
			Body string `json:"body"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(b, &apollo); err == nil && apollo.Format != "" {
		if apollo.Format != "apollo-persisted-query-manifest" {
			return nil, fmt.Errorf("format %q is not apollo-persisted-query-manifest", apollo.Format)
		}
		out := make(map[string]string, len(apollo.Operations))
		for i, op := range apollo.Operations {
			if op.ID == "" || op.Body == "" {
				return nil, fmt.Errorf("operations[%d] has no id or no body", i)
			}
			out[op.ID] = op.Body
		}
		return nonEmpty(out)
	}
	var relay map[string]string
	if err := json.Unmarshal(b, &relay); err != nil {
		return nil, errors.New(`neither an Apollo persisted query manifest nor a Relay map of id to document: ` + err.Error())
	}
	return nonEmpty(relay)
}

func nonEmpty(m map[string]string) (map[string]string, error) {
	if len(m) == 0 {
		return nil, errors.New("no operations")
	}
	return m, nil
}
